import Actions
import AgentConfig
import ArgumentParser
import Foundation
import HTTP
import Logging
import Secrets
import Selection
import Telemetry
import YAMLConfig

/// Options shared by the commands that read or change targets.
struct TargetOptions: ParsableArguments {
    @Option(help: "Agent config file (targets, catalog, policy).") var config: String
    @Option(help: "Only this target (default: every target in the config).") var target: String?

    init() {}
    init(config: String, target: String?) {
        self.config = config
        self.target = target
    }

    /// Executors for the chosen targets, over one HTTP client; config errors exit 2.
    func executors() throws -> (executors: [TargetExecutor], client: HTTPClient) {
        let (configuration, planner) = try loadConfiguration(config)
        let targets: [Target]
        do {
            targets = try configuration.target(target)
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        guard !targets.isEmpty else {
            printError("error: \(config): no targets configured")
            throw ExitCode(2)
        }
        let client = HTTPClient(configuration: .init(caBundle: configuration.caBundle))
        let environment = ProcessInfo.processInfo.environment
        var executors: [TargetExecutor] = []
        do {
            for target in targets {
                var executor = try TargetExecutor(
                    target: target, planner: planner, client: client, environment: environment,
                    logger: .forwarding { print("  [\(target.name)] \($0)") }, clock: processClock)
                executor.catalogParser = CatalogLoader.deployedParser
                executors.append(executor)
            }
        } catch {
            client.shutdown()
            printError("error: \(error)")
            throw ExitCode(2)
        }
        return (executors, client)
    }
}

/// The config file and the planner over its catalog; a bad file is printed and exits 2.
func loadConfiguration(_ file: String) throws -> (AgentConfiguration, Planner) {
    do {
        let configuration = try AgentConfiguration.load(file: file)
        return (configuration, try configuration.planner())
    } catch {
        printError("error: \(error)")
        throw ExitCode(2)
    }
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a failover of these providers would change in each target's override. Reads the secret; changes nothing.")

    @OptionGroup var targets: TargetOptions
    @Option(help: "Failing providers, comma-separated (e.g. vertex,bedrock).") var failing: String
    @Flag(help: "One JSON object per target instead of a diff.") var json = false

    func run() async throws {
        let (executors, client) = try targets.executors()
        defer { client.shutdown() }
        var failed = false
        for executor in executors {
            do {
                let plan = try await executor.plan(
                    failing: Set(failing.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }))
                print(json ? plan.json(target: executor.target.name) : plan.diff(target: executor.target.name))
                for problem in executor.planner.validate(plan.override) { print("  ! would fail the gateway's validation: \(problem)") }
            } catch {
                printError("error: \(executor.target.name): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Fail a provider over on each target: write the override (check-and-set) and retry the latest pipeline's deploy job.",
        discussion:
            "Without --yes, shows the plan and the checks and changes nothing. Exit status: 0 done (or nothing to do), 1 refused or "
            + "failed, 2 bad config."
    )

    @OptionGroup var targets: TargetOptions
    @Option(help: "The failing provider.") var provider: String
    @Flag(help: "Apply the change (otherwise only show it).") var yes = false

    func run() async throws {
        try await runAction(targets, verb: "failover", yes: yes) { await $0.failover(provider: provider, apply: yes) }
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Undo the agent's failover of a provider on each target, only where its values are still as the agent wrote them.",
        discussion:
            "Without --yes, shows the plan and the checks and changes nothing. Exit status: 0 done (or nothing to do), 1 refused or "
            + "failed, 2 bad config."
    )

    @OptionGroup var targets: TargetOptions
    @Option(help: "The recovered provider.") var provider: String
    @Flag(help: "Apply the change (otherwise only show it).") var yes = false

    func run() async throws {
        try await runAction(targets, verb: "restore", yes: yes) { await $0.restore(provider: provider, apply: yes) }
    }
}

private func runAction(_ options: TargetOptions, verb: String, yes: Bool, _ act: (TargetExecutor) async -> ActionReport) async throws {
    let (executors, client) = try options.executors()
    defer { client.shutdown() }
    var failed = false
    for executor in executors where !printReport(await act(executor), verb: verb) { failed = true }
    if failed { throw ExitCode(1) }
}

/// Prints what an action came to; false when it did not succeed.
func printReport(_ report: ActionReport, verb: String) -> Bool {
    var failed = false
    if let plan = report.plan { print(plan.diff(target: report.target)) }
    for key in report.leftToPeople { print("  ! \(key) was changed by someone since the agent wrote it: left as it is") }
    for warning in report.warnings { print("  ! \(warning)") }
    if let deploy = report.deployDecision { print("  deploy: \(deploy)") }
    for check in report.unready { print("  not ready: \(check.name.rawValue): \(check.reason)") }
    if let iid = report.changeRequest { print("  change request: issue #\(iid)") }
    if let problem = report.changeRequestProblem { print("  ! \(problem)") }
    switch report.outcome {
    case .planned where !report.unready.isEmpty:
        print("  not ready: with --yes it would write nothing until the checks above pass")
        failed = true
    case .planned: print("  checks passed; run again with --yes to \(verb)")
    case .nothingToDo(let why): print("  nothing to do: \(why)")
    case .deployed:
        print("  \(verb) done; deploy job success")
        print(
            report.verified == true
                ? "  verified live: the gateway serves the new defaults"
                : "  unverified: no gateway section for this target, so nothing asked the gateway what it serves")
    case .deployFailed(let status):
        print("  \(verb) done; the deploy failed: \(status)")
        failed = true
    case .written:
        print("  \(verb) written; no redeploy (restore_redeploy: false): the next deployment picks it up")
    case .notVerified(let why):
        print("  not verified: \(why)")
        failed = true
    case .refused(let why):
        print("  refused: \(why)")
        failed = true
    case .failed(let why), .interrupted(let why), .abandoned(let why):
        print("  failed: \(why)")
        failed = true
    }
    return !failed
}
