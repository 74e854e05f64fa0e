import AgentConfig
import ArgumentParser
import ControlAPI
import Foundation
import HTTP
import Health
import ProbeResults
import Probing
import Selection
import TrafficClient
import YAMLConfig

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Validate the config, the catalog and the probes; print every probed endpoint with its daily cost, and each provider's blast radius.",
        discussion: """
            Touches nothing. With --online it also reads each target's secret (the blast radius is then \
            computed on the override in force) and checks that the latest pipeline could be redeployed. \
            Exit status: 0 valid, 1 an online check failed or a plan would fail the gateway's validation, \
            2 a bad file (named with its line and field).
            """)

    @Option(help: "Agent config file (targets, catalog, policy, agent.probes).") var config: String
    @Flag(help: "Also read each target's secret and check its latest pipeline.") var online = false
    @Option(help: "Only this target (with --online).") var target: String?

    func run() async throws {
        let (configuration, planner) = try loadConfiguration(config)
        let radius = BlastRadius(planner: planner)
        guard let (specs, unset) = checkProbes(configuration) else { throw ExitCode(2) }
        let probes: ProbeSet
        do { probes = try ProbeSet.build(configuration, planner: planner, handWritten: specs, environment: nil) } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        print(
            "config \(config): \(configuration.targets.count) target(s), \(planner.catalog.models.count) models, "
                + "\(planner.features.count) features"
        )
        for note in unset { print("note: \(note) (not set here; `run` needs it)") }
        let watched = Set(probes.entries.map { Subject.provider($0.subject) }).union(unset.compactMap { Self.provider(ofSpec: $0.file) })
        for provider in Set(radius.entries.map(\.provider)).subtracting(watched).sorted() {
            print("warning: no probe watches \(provider): features on it can never be failed over")
        }
        print(ProbeTable.text(probes, budget: configuration.agent.maxProbeCostPerDay, policy: configuration.policy))
        if configuration.policy.probeCapPerProvider > HealthPolicy().probeCapPerProvider
            || configuration.policy.probeCapPerEndpoint > HealthPolicy().probeCapPerEndpoint
        {
            print(
                "! policy.sandbox_speed raises the probe caps to \(Int(configuration.policy.probeCapPerProvider)) a minute per provider: "
                    + "only for simulated providers, never against real ones")
        }
        guard online else {
            print(radius.text)
            if !radius.problems.isEmpty { throw ExitCode(1) }
            return
        }
        let (executors, client) = try TargetOptions(config: config, target: target).executors()
        defer { client.shutdown() }
        var failed = false
        for executor in executors {
            let name = executor.target.name
            do {
                let (version, value) = try await executor.current()
                let current = try value.map { try ModelOverride.parse($0) } ?? ModelOverride()
                print("target \(name): secret version \(version), \(current.entries.count) override key(s)")
                let planned = try await executor.redeployer.preflight()
                let gitlab = executor.target.gitlab
                let (pipeline, job) = (planned.pipeline, planned.job)
                let verb =
                    switch planned.decision {
                    case .retry: "retry"
                    case .follow: "follow, without retrying anything,"
                    default: "wait for, then retry,"
                    }
                print(
                    "  deploy: \(planned.decision.reason)\n  a failover would \(verb) pipeline #\(pipeline.id) of \(gitlab.project) at "
                        + "\(pipeline.sha.prefix(12))"
                        + (job.map {
                            ": \($0.isBridge ? "trigger job" : "job") #\($0.id) '\($0.name)' (deploy_job: \(gitlab.deployJob), the only match)"
                        }
                            ?? " (its trigger job is not created yet)"))
                let radius = BlastRadius(planner: planner, current: current)
                print(radius.text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
                failed = failed || !radius.problems.isEmpty
                for check in await executor.readiness(now: executor.redeployer.clock.unixTime) {
                    print("  \(check.ready ? "ready" : "NOT READY") \(check.name.rawValue): \(check.reason)")
                    failed = failed || !check.ready
                }
                if let settings = configuration.traffic[name] {
                    let subjects = Set(probes.entries.map(\.subject)).union(planner.catalog.providers)
                    failed = try await !checkTraffic(settings, subjects: subjects, planner: planner, client: client) || failed
                }
            } catch {
                print("  ! \(name): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// Reads the target's traffic source once, as the agent would: what each subject's requests
    /// were over the last interval, how old the newest sample is, and the series no subject takes.
    private func checkTraffic(_ settings: TrafficSettings, subjects: Set<String>, planner: Planner, client: HTTPClient) async throws
        -> Bool
    {
        let mapping = TrafficMapping(catalog: planner.catalog, subjects: subjects, callerErrorTypes: settings.callerErrorTypes)
        let source = try TrafficSource(
            settings: settings, mapping: mapping, client: client, environment: ProcessInfo.processInfo.environment, clock: processClock)
        let (reading, unmapped) = await source.read(now: 0)
        guard case .answered(let windows, let latest) = reading else {
            if case .failed(let why) = reading { print("  NOT READY traffic: \(why)") }
            return false
        }
        let counts = windows.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value.requests)) (\(Int($0.value.failures)) failed)" }
        let age = latest.map { -$0 }
        let fresh = age.map { $0 <= settings.staleAfter / .seconds(1) } ?? false
        print(
            "  \(fresh ? "ready" : "NOT READY") traffic: \(settings.url): requests over the last \(Int(settings.interval / .seconds(1))) s: "
                + (counts.isEmpty ? "none" : counts.joined(separator: ", "))
                + (age.map { "; newest sample \(Int($0.rounded())) s old" } ?? "; no samples of model_inferences_total"))
        if !unmapped.isEmpty { print("  note: series no subject takes (left out): \(unmapped.joined(separator: ", "))") }
        return fresh
    }

    /// Loads every probe spec: the specs, and the variables not set here; nil when a spec is
    /// malformed (printed).
    private func checkProbes(_ configuration: AgentConfiguration) -> ([ProbeSpec], [ConfigError])? {
        let (specs, errors) = configuration.handWrittenProbes(environment: ProcessInfo.processInfo.environment)
        let unset = errors.filter { $0.problem.hasPrefix("environment variable ") && $0.problem.hasSuffix(" is not set") }
        let bad = errors.filter { !unset.contains($0) }
        for error in bad { printError("error: \(error)") }
        guard bad.isEmpty else { return nil }
        return (specs, unset)
    }

    /// The provider a spec names, read without its variables (for a spec whose variables are unset).
    private static func provider(ofSpec file: String) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("provider:") }
            .map { $0.dropFirst("provider:".count).split(separator: "#").first?.trimmingCharacters(in: .whitespaces) ?? "" }
    }
}
