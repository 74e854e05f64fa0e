import ArgumentParser
import Simulation

/// The whole agent under deterministic simulation: each seed draws an incident and faults, runs
/// the agent's core, executor and clients against the simulated Vault, GitLab and gateway on
/// virtual time, and checks the invariants after every action. A failing seed is printed with
/// what it broke; `--seed S` replays it exactly, with its trace.
struct SimulateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the agent through random incidents and faults on virtual time; check its invariants after every action.")

    @Option(help: "How many seeds to run (1…1000), from --first.") var seeds = 200
    @Option(help: "The first seed.") var first: UInt64 = 1
    @Option(help: "Replay this one seed, with its trace.") var seed: UInt64?

    func validate() throws {
        guard (1...1000).contains(seeds) else { throw ValidationError("--seeds must be 1…1000") }
    }

    func run() async throws {
        let chosen = seed.map { [$0] } ?? Array(first..<first + UInt64(seeds))
        var violations = 0
        var faults = 0
        for seed in chosen {
            let run = await Simulation.run(seed: seed)
            violations += run.violations.count
            faults += run.faults.count
            if self.seed != nil || !run.violations.isEmpty {
                print(run.summary)
                if self.seed != nil { for line in run.trace { print("  " + line) } }
                for violation in run.violations { print("  violation: " + violation) }
            }
        }
        print("\(chosen.count) runs, \(violations) violations, \(faults) faults injected")
        if violations > 0 { throw ExitCode(1) }
    }
}
