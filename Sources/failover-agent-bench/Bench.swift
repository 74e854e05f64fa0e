import ArgumentParser

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover-agent-bench",
        abstract: "Benchmarks that print numbers. Loopback only; every run is bounded in count and time.",
        subcommands: [ReplayBench.self, DecisionBench.self, SimulateBench.self])
}
