import Actions
import ArgumentParser

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract:
            "A fire drill of one target: a real failover of its drill provider, verified, then its restore with its own redeploy, verified.",
        discussion:
            "Only a target with `drill:` in the config can be drilled. Without --yes, shows what the failover would write and the "
            + "checks, and changes nothing. Exit status: 0 when both halves were verified and the secret and the expedited variable "
            + "are back as they were, 1 otherwise, 2 bad config or a target that cannot be drilled."
    )

    @Option(help: "Agent config file (targets, catalog, policy).") var config: String
    @Option(help: "The target to drill (it must have `drill:`).") var target: String
    @Option(help: "The provider to fail over (default: the target's `drill.provider`).") var provider: String?
    @Flag(help: "Run the drill (otherwise only show what it would do).") var yes = false

    func run() async throws {
        let (executors, client) = try TargetOptions(config: config, target: target).executors()
        defer { client.shutdown() }
        guard let executor = executors.first, let drill = executor.target.drill else {
            printError("error: \(config): target \(target) has no `drill:`: only a target with one can be drilled (nothing was written)")
            throw ExitCode(2)
        }
        let provider = provider ?? drill.provider
        guard yes else {
            print("drill of \(provider) on \(target): a real failover, its deploy followed and the gateway verified; then the restore,")
            print("with its own redeploy, verified; the secret and the expedited variable checked back as they were; one change")
            print("request, labelled failover-agent::drill, opened and closed. The failover would be:")
            let planned = await executor.perform(.failover, provider: provider, apply: false, terms: ActionTerms(drill: true))
            if printReport(planned, verb: "drill") { return }
            throw ExitCode(1)
        }
        let report = await executor.drill(provider: provider) { kind, terms in
            print("\(kind.rawValue) of \(provider) on \(target):")
            let report = await executor.perform(kind, provider: provider, apply: true, terms: terms)
            _ = printReport(report, verb: kind.rawValue)
            return report
        }
        print(report.summary)
        if !report.succeeded { throw ExitCode(1) }
    }
}
