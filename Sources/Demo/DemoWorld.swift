import Actions
import Agent
import AgentConfig
import AgentCore
import ControlSimulators
import Foundation
import GatewayClient
import GitLabClient
import HTTP
import HTTPServer
import Health
import Journal
import Logging
import Paging
import ProbeResults
import Probing
import ProviderSimulators
import Scenarios
import Selection
import Synchronization
import Telemetry
import TrafficClient
import VaultClient

/// Everything the agent talks to, simulated on 127.0.0.1, with the agent itself: providers that
/// behave as a scenario says (time-compressed by `speed`), Vault, GitLab and a pager sink.
public final class DemoWorld: Sendable {
    public static let secretPath = "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS"
    public static let original = #"{"generate_commit_message": ["claude_haiku_4_5_20251001_vertex", "claude_haiku_4_5_20251001"]}"#
    public static let deployJob = "🛫 [ai-gateway] Trigger runway deployment production"
    /// The Duo Workflow Service: the same variable in its own secret, deployed by its own trigger
    /// job of the same pipeline (``start(scenario:speed:mode:proposalLifetime:withDWS:log:)``).
    public static let dwsSecretPath = "env/production/service/duo-workflow-svc/AIGW_MODEL_SELECTION__DEFAULT_MODELS"
    public static let dwsDeployJob = "🛫 [duo-workflow-svc] Trigger runway deployment production"
    public static let apiToken = "demo-api-token"
    /// Where the demo's change requests are opened.
    public static let changeRequestProject = "gl-infra/production"

    public let scenario: Scenario
    public let speed: Double
    public let providers: [ProviderSimulator]
    public let vault: VaultSimulator
    public let gitlab: GitLabSimulator
    /// The AI Gateway: serves what the secret held when its last deploy finished.
    public let gateway: GatewaySimulator
    /// The Duo Workflow Service, with `withDWS`: one group with the gateway, one incident.
    public let dwsGateway: GatewaySimulator?
    public let pagers: PagerSink
    public let loop: AgentLoop
    /// The executor of each target, as the loop has it.
    public let executors: [TargetExecutor]
    /// The loop's own journal (one connection: a second one may find the database locked).
    public let journal: Journal
    public let api: HTTPServer
    public let journalPath: String
    let client: HTTPClient
    let directory: String
    let origin: ContinuousClock.Instant

    /// Starts the world and the agent (not yet running: call ``run()``).
    public static func start(
        scenario: Scenario, speed: Double, mode: ActionMode, proposalLifetime: Double? = nil, withDWS: Bool = false,
        grouped: Bool = true, trafficSource: (@Sendable (_ gatewayMetrics: String) async throws -> String)? = nil,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> DemoWorld {
        let origin = ContinuousClock.now
        let clockOrigin = origin
        var simulators: [ProviderSimulator] = []
        for name in scenario.providerNames {
            let flavor = ProviderFlavor(rawValue: name) ?? .openai
            let sampler = Locked(OutcomeSampler(scenario: scenario, probeTimeout: 10, latencyBudget: 5))
            simulators.append(
                try await ProviderSimulator.start(
                    flavor,
                    outcome: .scripted { request in
                        let t = (ContinuousClock.now - clockOrigin) / .seconds(1) * speed
                        // `/v1/probe/<model>` asks one model (its own behaviour, if the scenario gives one).
                        let model = request.uri.hasPrefix("/v1/probe/") ? String(request.uri.dropFirst("/v1/probe/".count)) : nil
                        let subject = Subject.key(provider: name, model: model)
                        let outcome = sampler.withLock { $0.outcome(of: subject, at: t) }
                        let latency = Duration.milliseconds(Int64((outcome.ttfbMs ?? 0) / speed))
                        return outcome.resultClass == .slow
                            ? flavor.reply(for: .ok, latency: latency) : flavor.reply(for: outcome.resultClass, latency: latency)
                    }))
        }
        let vault = try await VaultSimulator.start()
        vault.put(secretPath, ["value": .string(original)])
        let gitlab = try await GitLabSimulator.start()
        // As in production, one pipeline triggers every service's deployment.
        gitlab.addPipeline(
            id: 4711, sha: "5e1f0c0ffee0",
            jobs: [
                .init(id: 1, name: "build"), .init(id: 2, name: deployJob, isBridge: true),
                .init(id: 3, name: dwsDeployJob, isBridge: true),
                .init(id: 4, name: "🛫 [ai-gateway-custom] Trigger runway deployment production", isBridge: true),
            ])
        let pagers = try await PagerSink.start()
        let planner = ExampleTarget.planner()
        let gateway = try await GatewaySimulator.start(image: GatewayImage(planner))
        gateway.deploy(override: original)
        gitlab.onDeploy(job: deployJob) { [vault] in gateway.deploy(override: vault.current(secretPath)?.data["value"]?.string) }
        var dwsGateway: GatewaySimulator?
        if withDWS {
            vault.put(dwsSecretPath, ["value": .string(original)])
            let dws = try await GatewaySimulator.start(image: gateway.image)
            dws.deploy(override: original)
            gitlab.onDeploy(job: dwsDeployJob) { [vault] in dws.deploy(override: vault.current(dwsSecretPath)?.data["value"]?.string) }
            dwsGateway = dws
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("failover-agent-demo-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // One probe per provider, and one per model the scenario gives a behaviour of its own.
        var specs: [ProbeSpec] = []
        for subject in scenario.subjects {
            let (name, model) = (Subject.provider(subject), Subject.model(subject))
            guard let simulator = zip(scenario.providerNames, simulators).first(where: { $0.0 == name })?.1 else { continue }
            specs.append(
                ProbeSpec(
                    provider: name, name: model ?? name, model: model, method: "POST",
                    url: simulator.baseURL + "/v1/probe" + (model.map { "/" + $0 } ?? ""),
                    headers: [HTTPHeader("content-type", "application/json")],
                    body: #"{"max_tokens":1}"#, timeout: .milliseconds(Int64(10_000 / speed)),
                    latencyBudget: .milliseconds(Int64(5_000 / speed)), freshConnection: false))
        }
        var targets = [
            Target(
                name: "aigw-production", mode: mode,
                vault: VaultSettings(address: vault.address, path: secretPath, token: .environment("VAULT_TOKEN")),
                gitlab: GitLabSettings(
                    url: gitlab.url, project: "42", deployJob: .service("ai-gateway", environment: "production"), expedited: true,
                    token: .environment("GITLAB_TOKEN"), pollInterval: .milliseconds(50)),
                changeRequest: ChangeRequestSettings(project: changeRequestProject, labels: ["change::failover"]),
                gateway: GatewaySettings(url: gateway.url, verifyTimeout: .seconds(10), pollInterval: .milliseconds(50)),
                group: withDWS && grouped ? "production" : nil)
        ]
        if let dwsGateway {
            var dws = targets[0]
            dws.name = "dws-production"
            dws.vault.path = dwsSecretPath
            dws.gitlab.deployJob = .service("duo-workflow-svc", environment: "production")
            dws.gateway?.urls = [dwsGateway.url]
            targets.append(dws)
        }
        let environment = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token, "PD_KEY": "demo-routing-key"]
        let client = HTTPClient()
        var executors: [TargetExecutor] = []
        for target in targets {
            var executor = try TargetExecutor(
                target: target, planner: planner, client: client, environment: environment,
                logger: .forwarding { log("  vault/gitlab/gateway: \($0)") })
            executor.catalogParser = CatalogLoader.deployedParser
            executors.append(executor)
        }
        let journalPath = directory + "/journal.sqlite"
        let journal = try Journal(path: journalPath)
        let pager = try Pager(
            settings: .pagerDuty(routingKey: .environment("PD_KEY"), url: pagers.url), client: client, environment: environment)
        let metrics = PrometheusMetrics()
        var parts = AgentLoop.Parts(
            specs: specs, prober: Prober(client: client), runner: ActionRunner(journal: journal, executors: executors),
            pagers: Pagers([pager]), journal: journal,
            metrics: metrics.metrics, logger: .forwarding("failover-agent", log))
        var staleAfter: Double?
        var trafficWindow: Double?
        // The gateway exports its own counters; with a query API in front of them, the agent reads them.
        if let traffic = GatewayTraffic(scenario: scenario, subjects: scenario.subjects, catalog: planner.catalog) {
            gateway.exportMetrics { [gateway] in
                let served = Set(gateway.image.defaults.keys.flatMap { gateway.defaults(of: $0) ?? [] })
                return traffic.exposition(at: (ContinuousClock.now - clockOrigin) / .seconds(1) * speed, served: served)
            }
            if let trafficSource, let window = scenario.traffic?.window {
                let settings = TrafficSettings(
                    url: try await trafficSource(gateway.url + "/metrics"), interval: .milliseconds(Int64(window * 1000 / speed)),
                    staleAfter: .milliseconds(Int64(120_000 / speed)))
                staleAfter = 120 / speed
                trafficWindow = window / speed
                parts.traffic = [
                    try TrafficSource(
                        settings: settings, mapping: TrafficMapping(catalog: planner.catalog, subjects: Set(scenario.subjects)),
                        client: client, environment: environment)
                ]
            }
        }
        let core = AgentCore(
            settings: .init(
                targets: targets.map { (name: $0.name, mode: mode) }, proposalLifetime: proposalLifetime ?? 900 / speed,
                groups: withDWS && grouped ? ["production": targets.map(\.name)] : [:], trafficStaleAfter: staleAfter,
                trafficWindow: trafficWindow),
            endpoints: specs.map { ($0.name, $0.subject) }, policy: Self.policy(speed: speed))
        let loop = AgentLoop(core: core, parts: parts)
        let api = try await HTTPServer.start(
            limits: AgentAPI.limits(token: apiToken), asyncHandler: AgentAPI.handler(loop: loop, token: apiToken, metrics: metrics.text))
        return DemoWorld(
            scenario: scenario, speed: speed, providers: simulators, vault: vault, gitlab: gitlab, gateway: gateway,
            dwsGateway: dwsGateway, pagers: pagers, loop: loop, executors: executors, journal: journal, api: api,
            journalPath: journalPath, client: client, directory: directory, origin: origin)
    }

    private init(
        scenario: Scenario, speed: Double, providers: [ProviderSimulator], vault: VaultSimulator, gitlab: GitLabSimulator,
        gateway: GatewaySimulator, dwsGateway: GatewaySimulator?,
        pagers: PagerSink, loop: AgentLoop, executors: [TargetExecutor], journal: Journal, api: HTTPServer, journalPath: String,
        client: HTTPClient,
        directory: String,
        origin: ContinuousClock.Instant
    ) {
        (self.scenario, self.speed, self.providers, self.vault, self.gitlab, self.gateway, self.pagers) = (
            scenario, speed, providers, vault, gitlab, gateway, pagers
        )
        (self.loop, self.api, self.journalPath, self.client, self.directory, self.origin) = (
            loop, api, journalPath, client, directory, origin
        )
        self.dwsGateway = dwsGateway
        self.executors = executors
        self.journal = journal
    }

    /// Scenario time now, in seconds.
    public var scenarioTime: Double { (ContinuousClock.now - origin) / .seconds(1) * speed }

    /// The default policy with every duration divided by `speed`.
    public static func policy(speed: Double) -> HealthPolicy {
        var p = HealthPolicy()
        for path: WritableKeyPath<HealthPolicy, Double> in [
            \.steadyInterval, \.confirmInterval, \.window, \.minOutage, \.minHealthy, \.maxHealthy, \.reflapWindow, \.latencyFloor,
            \.latencyCeiling, \.blindWindow, \.brownoutInterval, \.brownoutMinDuration, \.brownoutWatch, \.trafficMinDuration,
        ] {
            p[keyPath: path] /= speed
        }
        // The caps are rates: a minute of scenario time passes in 1/speed of a minute.
        p.probeCapPerProvider *= speed
        p.probeCapPerEndpoint *= speed
        return p
    }

    public var secretValue: String? { vault.current(Self.secretPath)?.data["value"]?.string }
    public var dwsSecretValue: String? { vault.current(Self.dwsSecretPath)?.data["value"]?.string }

    public func stop() async {
        await api.stop()
        for provider in providers { await provider.stop() }
        await vault.stop()
        await gitlab.stop()
        await gateway.stop()
        await dwsGateway?.stop()
        await pagers.stop()
        client.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A value behind a lock, shareable across threads.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
