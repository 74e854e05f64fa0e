import Actions
import AgentConfig
import ControlAPI
import ControlSimulators
import Foundation
import GatewayClient
import GitLabClient
import HTTP
import HTTPServer
import Lifecycle
import Logging
import Selection
import Synchronization
import Telemetry
import Timekeeping
import VaultClient

/// What the agent acts on, simulated on 127.0.0.1 as the real services behave (DESIGN.md,
/// "Facts about the systems we act on"): Vault with its policy enforced, GitLab whose pipelines
/// move and whose deploys read the secret when they start, and the gateway that serves what the
/// last deploy read. One target, `aigw-production`, with a change request and a verified redeploy.
final class SimulatedWorld: Sendable {
    static let path = "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS"
    static let original = #"{"generate_commit_message": ["claude_haiku_4_5_20251001_vertex", "claude_haiku_4_5_20251001"]}"#
    static let job = "🛫 [ai-gateway] Trigger runway deployment production"
    static let changeRequestProject = "gl-infra/production"
    static let targetName = "aigw-production"

    let vault: VaultSimulator
    let gitlab: GitLabSimulator
    let gateway: GatewaySimulator
    /// Where the agent's pages go (PagerDuty's Events API).
    let pagers: PagerSink
    let client: HTTPClient
    let planner: Planner
    let clock: VirtualClock
    let directory: String
    /// The target's fire drills, when the run drills it.
    let drill: DrillSettings?
    /// The gateway's Prometheus, when the run has a traffic source.
    let prometheus: PrometheusSimulator?

    private init(
        vault: VaultSimulator, gitlab: GitLabSimulator, gateway: GatewaySimulator, pagers: PagerSink, client: HTTPClient, planner: Planner,
        clock: VirtualClock, directory: String, drill: DrillSettings?, prometheus: PrometheusSimulator?
    ) {
        (self.vault, self.gitlab, self.gateway, self.pagers, self.client) = (vault, gitlab, gateway, pagers, client)
        (self.planner, self.clock, self.directory, self.drill, self.prometheus) = (planner, clock, directory, drill, prometheus)
    }

    static func start(clock: VirtualClock, drill: DrillSettings? = nil, traffic: Bool = false) async throws -> SimulatedWorld {
        let vault = try await VaultSimulator.start()
        let gitlab = try await GitLabSimulator.start()
        let planner = ExampleTarget.planner()
        let gateway = try await GatewaySimulator.start(image: GatewayImage(planner))
        vault.put(path, ["value": .string(original)])
        gateway.deploy(override: original)
        // Production runs pipeline #7; every deploy copies the secret as it starts and serves it once live.
        gitlab.deployRegularly(pipeline: 7, sha: "sha7", jobName: job, environment: "production")
        gitlab.deploys(
            job: job, read: { [vault] in vault.current(path)?.data["value"]?.string }, serve: { [gateway] in gateway.deploy(override: $0) })
        gitlab.setPollsToFinish(4)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("failover-agent-simulation-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return SimulatedWorld(
            vault: vault, gitlab: gitlab, gateway: gateway, pagers: try await PagerSink.start(), client: HTTPClient(), planner: planner,
            clock: clock, directory: directory, drill: drill,
            prometheus: traffic
                ? try await PrometheusSimulator.start(clock: clock, catalog: planner.catalog, providers: Replica.subjects) : nil)
    }

    var target: Target {
        Target(
            name: Self.targetName, mode: .perform,
            vault: VaultSettings(address: vault.address, path: Self.path, token: .environment("V")),
            gitlab: GitLabSettings(
                url: gitlab.url, project: "42", deployJob: .service("ai-gateway", environment: "production"), environment: "production",
                expedited: true, token: .environment("G")),
            changeRequest: ChangeRequestSettings(
                project: Self.changeRequestProject, labels: ["change", "failover-agent"], confidential: true),
            gateway: GatewaySettings(url: gateway.url), restoreRedeploy: true, drill: drill)
    }

    /// A fresh executor of the target (a process starting), on the world's clock.
    func executor() throws(ControlError) -> TargetExecutor {
        try TargetExecutor(
            target: target, planner: planner, client: client, environment: ["V": vault.token, "G": gitlab.token], logger: .silent,
            clock: clock)
    }

    /// Writes Vault and GitLab have taken: requests other than reads, logins and Vault's capability questions.
    var writes: Int {
        counted.withLock { counted in
            let vault = vault.requestCount(from: counted.vault) {
                $0.method != "GET" && !$0.uri.hasPrefix("/v1/sys/") && !$0.uri.hasPrefix("/v1/auth/")
            }
            let gitlab = gitlab.requestCount(from: counted.gitlab) { $0.method != "GET" }
            counted = (vault.seen, gitlab.seen, counted.writes + vault.matching + gitlab.matching)
            return counted.writes
        }
    }
    /// Requests of each simulator counted so far, and the writes among them.
    private let counted = Mutex((vault: 0, gitlab: 0, writes: 0))

    var secret: String? { vault.current(Self.path)?.data["value"]?.string }
    /// Every value the secret has held, oldest first.
    var history: [String?] { vault.versions(Self.path).map { $0["value"]?.string } }
    var changeRequests: [GitLabSimulator.SimIssue] { gitlab.issues(in: Self.changeRequestProject) }

    private let pipelines = Mutex(8)

    /// `main` moves: a newer pipeline whose production deploy stands as `main` says.
    func move(_ main: SimulatedFault.Main) {
        let id = pipelines.withLock { id in
            defer { id += 2 }
            return id
        }
        var trigger = GitLabSimulator.SimJob(
            id: id * 10, name: Self.job, status: main == .manual ? "manual" : "created", isBridge: true, environment: "production")
        trigger.startsAfter = 12  // its tests run on while the agent plans and writes
        switch main {
        case .newerDeployPending, .manual: gitlab.addPipeline(id: id, sha: "sha\(id)", jobs: [trigger])
        case .newerDeployRunning:
            gitlab.deployRegularly(pipeline: id, sha: "sha\(id)", jobName: Self.job, environment: "production", downstream: "running")
        case .newerDeployFails:
            gitlab.addPipeline(id: id, sha: "sha\(id)", jobs: [trigger])
            gitlab.failDeploys(ofPipeline: id)
        }
    }

    /// Arms the faults that catch requests (the driver arms them afresh every turn until the heal).
    func arm(_ fault: SimulatedFault) {
        switch fault {
        case .mainMoves: break  // moved by the driver, twice a run
        case .lostAnswer(let write):
            switch write {
            case .jobRetry: gitlab.loseAnswer("POST", "/retry")
            case .changeRequest: gitlab.loseAnswer("POST", "production/issues")
            case .note: gitlab.loseAnswer("POST", "/notes")
            case .expeditedVariable: gitlab.loseAnswer("POST", "/variables")
            case .closeIssue: gitlab.loseAnswer("PUT", "/issues/")
            case .variableRemoval: gitlab.loseAnswer("DELETE", "/variables/")
            case .vaultWrite: vault.loseAnswer("POST", "/data/")
            case .metadata: vault.loseAnswer("PATCH", "/metadata/")
            }
        case .serverErrors(.vault, let count): vault.failNext(count, status: 503)
        case .serverErrors(.gitlab, let count): gitlab.failNext(count, status: 502)
        case .rateLimited(let count, let retryAfter): gitlab.rateLimitNext(count, retryAfter: retryAfter)
        case .slowAnswers(.vault, let count, let seconds): vault.slowNext(count, by: .seconds(seconds), on: clock)
        case .slowAnswers(.gitlab, let count, let seconds): gitlab.slowNext(count, by: .seconds(seconds), on: clock)
        case .vaultWithoutPatch, .roleWithdrawn, .vaultReadOnly, .crash, .leaderChange, .blind, .traffic: break
        }
    }

    /// Puts a standing fault in place (true) or takes it away (false).
    func stand(_ fault: SimulatedFault, _ on: Bool) {
        let mount = target.vault.mount
        switch fault {
        case .vaultWithoutPatch:
            vault.setCapabilities(
                "\(mount)/metadata/\(Self.path)", on ? ["read", "create", "update"] : ["read", "create", "update", "patch"])
        case .vaultReadOnly:
            vault.setCapabilities("\(mount)/data/\(Self.path)", on ? ["read"] : ["read", "create", "update"])
        case .roleWithdrawn: gitlab.changeAccess { $0.accessLevel = on ? 20 : 40 }
        default: break
        }
    }

    /// Takes every armed request fault away.
    func disarm() {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            vault.loseAnswer(method, nil)
            gitlab.loseAnswer(method, nil)
        }
        vault.failNext(0)
        gitlab.failNext(0)
        gitlab.rateLimitNext(0, retryAfter: nil)
        vault.slowNext(0, by: .zero, on: clock)
        gitlab.slowNext(0, by: .zero, on: clock)
    }

    func stop() async {
        client.shutdown()
        await vault.stop()
        await gitlab.stop()
        await gateway.stop()
        await pagers.stop()
        await prometheus?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
