import AgentConfig
import AgentCore
import ArgumentParser
import Demo
import Foundation
import Journal
import Scenarios
import Synchronization
import YAMLConfig

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "The whole story on 127.0.0.1, time-compressed: a provider outage, the proposal and its approval, the Vault write, the "
            + "SHA-checked redeploy, recovery and the restore.",
        discussion:
            "Simulated providers (driven by a scenario), Vault, GitLab and PagerDuty run on loopback; the real agent runs against them. "
            + "Exit status 0 when the story ends with the secret back as it was."
    )

    @Option(help: "A scenario file (format: scenarios/README.md); default: a built-in Vertex AI outage.") var scenario: String?
    @Option(help: "How many times faster than real time.") var speed = 25.0
    @Option(help: "propose (a person approves; auto-approved unless --interactive) or perform.") var mode = "propose"
    @Flag(help: "Wait for you to run the approve command instead of approving automatically.") var interactive = false

    func run() async throws {
        let story: Scenario
        do { story = try scenario.map { file throws(ConfigError) in try ScenarioLoader.load(file: file) } ?? Self.builtIn() } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        guard let actionMode = ActionMode(rawValue: mode), speed >= 1, speed <= 200 else {
            throw ValidationError("--mode is propose or perform; --speed 1…200")
        }
        let marks = Marks()
        let started = processClock.elapsed
        let log: @Sendable (String) -> Void = { line in
            let t = (processClock.elapsed - started) / .seconds(1) * speed
            marks.note(line, at: t)
            print("[t=\(String(format: "%6.1f", t))s] \(line)")
        }
        let world = try await DemoWorld.start(scenario: story, timing: .compressed(speed: speed), mode: actionMode, log: log)
        print(
            """
            failover-agent demo: '\(story.name)' at \(Int(speed))× speed (\(Int(story.duration / speed)) s at most).
            Simulated on 127.0.0.1: \(story.providerNames.joined(separator: ", ")) (driven by the scenario), \
            Vault, GitLab, the AI Gateway, PagerDuty.
            Target aigw-production in \(mode) mode. Its secret now: \(DemoWorld.original)

            """)
        let running = Task { await world.loop.run() }
        var approved = Set<String>()
        var deployedRegularly = false
        while world.scenarioTime < story.duration {
            try await processClock.sleep(for: .milliseconds(100))
            for proposal in await world.loop.status()["open_proposals"]?.array ?? [] {
                guard let id = proposal["id"]?.string, !approved.contains(id) else { continue }
                approved.insert(id)
                print(
                    "\n  To approve: FAILOVER_AGENT_TOKEN=\(DemoWorld.apiToken) failover-agent approve \(id) --agent \(world.api.baseURL)\n"
                )
                if !interactive {
                    try await processClock.sleep(for: .seconds(1))
                    log("(demo) a person runs `failover-agent approve \(id)`")
                    switch await world.loop.approve(id) {
                    case .accepted(let text): log("approve: \(text)")
                    case .refused(let text): log("approve refused: \(text)")
                    }
                }
            }
            if marks.restored, !deployedRegularly {
                // The runbook's restore leaves the deploy to the next regular one: here it comes.
                deployedRegularly = true
                try await processClock.sleep(for: .milliseconds(500))
                log("(demo) the next regular deployment of production goes out")
                world.gitlab.deployRegularly(pipeline: 4712, sha: "7a11ed0c0de0", jobName: DemoWorld.deployJob)
            }
            if marks.restored, marks.restoreVerified, world.secretValue == DemoWorld.original { break }
        }
        running.cancel()
        await running.value
        let value = world.secretValue
        let requests = world.gitlab.issues(in: DemoWorld.changeRequestProject)
        let checks: [(String, Bool)] = [
            ("a failover was carried out", marks.failedOver),
            ("a restore was carried out", marks.restored),
            ("the secret is back byte-for-byte: \(value ?? "nil")", value == DemoWorld.original),
            ("RUNWAY_DEPLOYMENT_STRATEGY removed after the incident", world.gitlab.variables.isEmpty),
            ("deploy job retried once, for the failover only (\(world.gitlab.retries.count) retries)", world.gitlab.retries.count == 1),
            ("the failover verified live: the gateway served the override", marks.failoverVerified),
            ("the restore verified live after the next deployment", marks.restoreVerified),
            (
                "one change request, opened and closed "
                    + "(\(requests.map { "#\($0.iid) \($0.state), \($0.notes.count) notes" }.joined(separator: "; ")))",
                requests.count == 1 && requests.allSatisfy { $0.state == "closed" }
            ),
            ("pages sent to PagerDuty (\(world.pagers.received.count))", !world.pagers.received.isEmpty),
        ]
        print("\nFinal checks:")
        for (what, ok) in checks { print("  \(ok ? "✓" : "✗") \(what)") }
        if let onset = Self.onset(story), let decided = marks.decided {
            print(
                "\nTimings (scenario time): outage onset \(Int(onset)) s; decided \(String(format: "%.1f", decided - onset)) s later"
                    + (marks.proposed.map { "; proposal paged \(String(format: "%.1f", $0 - onset)) s after onset" } ?? "")
                    + (marks.retried.map { "; job retried \(String(format: "%.1f", $0 - onset)) s after onset" } ?? "") + ".")
        }
        let entries = (try? await Journal(path: world.journalPath, clock: processClock).history(limit: 1000).count) ?? 0
        print("Audit trail: \(entries) journal entries.")
        await world.stop()
        if checks.contains(where: { !$0.1 }) { throw ExitCode(1) }
    }

    /// A Vertex AI outage of seven minutes, in a 25-minute story.
    static func builtIn() throws(ConfigError) -> Scenario {
        try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: built-in-vertex-outage
                description: Vertex AI answers 503 to every request for seven minutes.
                seed: 5
                duration: 25m
                providers:
                  vertex:
                    - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0.002, class: http_5xx}}
                    - {at: 5m, failure: {rate: 1.0}}
                    - {at: 12m, failure: {rate: 0.002}}
                  bedrock:
                    - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0.002, class: http_5xx}}
                  anthropic:
                    - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0.002, class: overloaded}}
                """, file: "built-in scenario"))
    }

    /// When the first provider starts failing every request.
    static func onset(_ scenario: Scenario) -> Double? {
        scenario.providers.flatMap { provider in provider.phases.filter { $0.failureRate == 1 }.map(\.at) }.min()
    }
}

/// Moments of the story, noted from the log.
final class Marks: Sendable {
    private let state = Mutex<[String: Double]>([:])

    func note(_ line: String, at t: Double) {
        state.withLock { marks in
            func mark(_ key: String) { if marks[key] == nil { marks[key] = t } }
            if line.contains("→ failing") { mark("decided") }
            if line.hasPrefix("proposal ") { mark("proposed") }
            if line.contains("retried job") { mark("retried") }
            if line.contains("failover of") && line.contains("deployed: job success") { mark("failedOver") }
            if line.contains("restore of") && (line.contains("written: the next deployment") || line.contains("deployed: job success")) {
                mark("restored")
            }
            if line.contains("verified live: ") { mark("failoverVerified") }
            if line.contains("restore of") && line.contains("verified live after the next deployment") { mark("restoreVerified") }
        }
    }

    var decided: Double? { state.withLock { $0["decided"] } }
    var proposed: Double? { state.withLock { $0["proposed"] } }
    var retried: Double? { state.withLock { $0["retried"] } }
    var failedOver: Bool { state.withLock { $0["failedOver"] != nil } }
    var restored: Bool { state.withLock { $0["restored"] != nil } }
    var failoverVerified: Bool { state.withLock { $0["failoverVerified"] != nil } }
    var restoreVerified: Bool { state.withLock { $0["restoreVerified"] != nil } }
}
