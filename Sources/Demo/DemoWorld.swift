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
import Timekeeping
import TrafficClient
import VaultClient

/// Everything the agent talks to, simulated on 127.0.0.1, with the agent itself: providers that
/// behave as a scenario says, Vault, GitLab and a pager sink — on the wall clock compressed by
/// `speed` (the demo), or on a virtual clock the caller moves (the end-to-end tests).
public final class DemoWorld: Sendable {
    /// How the world's time passes.
    public enum Timing: Sendable {
        /// The wall clock, `speed` times faster: the loop runs on its own (``AgentLoop/run()``) and
        /// probes go through libcurl to the simulated providers.
        case compressed(speed: Double)
        /// A virtual clock the caller moves; probes are answered from the scenario at the clock's
        /// time, in process, while Vault, GitLab, the gateway and the pager are still reached over
        /// HTTP. A clock that runs ahead: the loop is inline (each turn carries out the work it
        /// starts), turned by ``turn(for:until:)``. An ordered clock: the loop runs concurrently
        /// (``AgentLoop/run()``) and the caller advances the clock from sleeper to sleeper.
        case virtual(VirtualClock)
    }

    public static let secretPath = "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS"
    public static let original = #"{"generate_commit_message": ["claude_haiku_4_5_20251001_vertex", "claude_haiku_4_5_20251001"]}"#
    public static let deployJob = "🛫 [ai-gateway] Trigger runway deployment production"
    /// The Duo Workflow Service: the same variable in its own secret, deployed by its own trigger
    /// job of the same pipeline (``start(scenario:timing:mode:proposalLifetime:withDWS:grouped:trafficSource:log:)``).
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
    /// On virtual time, with a scenario that has traffic: the gateway's Prometheus, as the agent reads it.
    public let prometheus: PrometheusSimulator?
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
    /// Scenario time, in seconds.
    let now: @Sendable () -> Double
    /// With ``Timing/virtual(_:)``: the clock the loop turns on.
    public let clock: VirtualClock?

    /// Starts the world and the agent (not yet running: call ``run()``).
    public static func start(
        scenario: Scenario, timing: Timing, mode: ActionMode, proposalLifetime: Double? = nil, withDWS: Bool = false,
        grouped: Bool = true, trafficSource: (@Sendable (_ gatewayMetrics: String) async throws -> String)? = nil,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> DemoWorld {
        let (speed, clock): (Double, VirtualClock?) =
            switch timing {
            case .compressed(let speed): (speed, nil)
            case .virtual(let clock): (1, clock)
            }
        // The agent's one clock: the virtual one, or the wall clock.
        let agentClock: any AgentClock = clock ?? WallClock()
        let now: @Sendable () -> Double = { clock?.seconds ?? agentClock.seconds * speed }
        // One random stream per endpoint, as the scenario seeds it.
        let sampler = Locked(OutcomeSampler(scenario: scenario, probeTimeout: 10, latencyBudget: 5))
        var simulators: [ProviderSimulator] = []
        for name in clock == nil ? scenario.providerNames : [] {
            let flavor = ProviderFlavor(rawValue: name) ?? .openai
            simulators.append(
                try await ProviderSimulator.start(
                    flavor,
                    outcome: .scripted { request in
                        // `/v1/probe/<model>` asks one model (its own behaviour, if the scenario gives one).
                        let model = request.uri.hasPrefix("/v1/probe/") ? String(request.uri.dropFirst("/v1/probe/".count)) : nil
                        let outcome = sampler.withLock { $0.outcome(of: Subject.key(provider: name, model: model), at: now()) }
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
            // On virtual time the probes never leave the process (port 9: discard).
            let simulator = zip(scenario.providerNames, simulators).first(where: { $0.0 == name })?.1
            guard clock != nil || simulator != nil else { continue }
            specs.append(
                ProbeSpec(
                    provider: name, name: model ?? name, model: model, method: "POST",
                    url: (simulator?.baseURL ?? "http://127.0.0.1:9") + "/v1/probe" + (model.map { "/" + $0 } ?? ""),
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
                logger: .forwarding { log("  vault/gitlab/gateway: \($0)") }, clock: agentClock)
            executor.catalogParser = CatalogLoader.deployedParser
            executors.append(executor)
        }
        let journalPath = directory + "/journal.sqlite"
        let journal = try Journal(path: journalPath, clock: agentClock)
        let pager = try Pager(
            settings: .pagerDuty(routingKey: .environment("PD_KEY"), url: pagers.url), client: client, environment: environment,
            clock: agentClock)
        let metrics = PrometheusMetrics()
        var parts = AgentLoop.Parts(
            specs: specs, prober: Prober(client: client, clock: agentClock), runner: ActionRunner(journal: journal, executors: executors),
            pagers: Pagers([pager]), journal: journal,
            metrics: metrics.metrics, logger: .forwarding("failover-agent", log), clock: agentClock)
        if let clock {
            parts.inline = clock.mode == .runsAhead
            parts.probe = { spec in Self.answer(spec, sampler.withLock { $0.outcome(of: spec.subject, at: now()) }) }
        }
        var staleAfter: Double?
        var trafficWindow: Double?
        var prometheus: PrometheusSimulator?
        // The gateway exports its own counters; with a query API in front of them, the agent reads them.
        if let traffic = GatewayTraffic(scenario: scenario, subjects: scenario.subjects, catalog: planner.catalog) {
            gateway.exportMetrics { [gateway] in
                let served = Set(gateway.image.defaults.keys.flatMap { gateway.defaults(of: $0) ?? [] })
                return traffic.exposition(at: now(), served: served)
            }
            // On virtual time a stand-in of Prometheus's query API answers from the scenario; else the caller's Prometheus.
            var url: String?
            if let clock {
                let simulator = try await PrometheusSimulator.start(
                    clock: clock, catalog: planner.catalog, providers: scenario.providerNames)
                simulator.setFailureRate { provider, at in scenario.behaviour(of: provider, at: at)?.failureRate ?? 0 }
                (prometheus, url) = (simulator, simulator.url)
            } else if let trafficSource {
                url = try await trafficSource(gateway.url + "/metrics")
            }
            if let url, let window = clock == nil ? scenario.traffic?.window : PrometheusSimulator.window {
                let settings = TrafficSettings(
                    url: url, interval: .milliseconds(Int64(window * 1000 / speed)), staleAfter: .milliseconds(Int64(120_000 / speed)))
                staleAfter = 120 / speed
                trafficWindow = window / speed
                parts.traffic = [
                    try TrafficSource(
                        settings: settings, mapping: TrafficMapping(catalog: planner.catalog, subjects: Set(scenario.subjects)),
                        client: client, environment: environment, clock: agentClock)
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
            journalPath: journalPath, client: client, directory: directory, now: now, clock: clock, prometheus: prometheus)
    }

    private init(
        scenario: Scenario, speed: Double, providers: [ProviderSimulator], vault: VaultSimulator, gitlab: GitLabSimulator,
        gateway: GatewaySimulator, dwsGateway: GatewaySimulator?,
        pagers: PagerSink, loop: AgentLoop, executors: [TargetExecutor], journal: Journal, api: HTTPServer, journalPath: String,
        client: HTTPClient, directory: String, now: @escaping @Sendable () -> Double, clock: VirtualClock?,
        prometheus: PrometheusSimulator?
    ) {
        (self.scenario, self.speed, self.providers, self.vault, self.gitlab, self.gateway, self.pagers) = (
            scenario, speed, providers, vault, gitlab, gateway, pagers
        )
        (self.loop, self.api, self.journalPath, self.client, self.directory, self.now, self.clock) = (
            loop, api, journalPath, client, directory, now, clock
        )
        self.dwsGateway = dwsGateway
        self.prometheus = prometheus
        self.executors = executors
        self.journal = journal
    }

    /// Scenario time now, in seconds.
    public var scenarioTime: Double { now() }

    /// On virtual time: turns the loop, then moves the clock a second, until `condition` holds
    /// before a turn, for at most `seconds` of the clock; returns whether it held.
    public func turn(for seconds: Int, until condition: () async throws -> Bool) async rethrows -> Bool {
        guard let clock, clock.mode == .runsAhead else { preconditionFailure("turn(for:until:) needs a virtual clock that runs ahead") }
        for _ in 0..<seconds {
            if try await condition() { return true }
            await loop.step()
            clock.advance(by: .seconds(1))
        }
        return try await condition()
    }

    /// What a probe comes to when the scenario says `outcome`, as libcurl and the prober would report it.
    static func answer(_ spec: ProbeSpec, _ outcome: OutcomeSampler.Outcome) -> ProbeResult {
        let status: Int? =
            switch outcome.resultClass {
            case .ok, .slow, .badBody: 200
            case .http5xx: 503
            case .overloaded: 529
            case .rateLimited: 429
            case .auth: 401
            case .badRequest: 400
            case .timeout, .connect, .tls: nil
            }
        return ProbeResult(
            provider: spec.provider, probe: spec.name, resultClass: outcome.resultClass, status: status, ttfbMs: outcome.ttfbMs ?? 0,
            totalMs: outcome.duration * 1000, curlError: status == nil ? "CURLE_OPERATION_TIMEDOUT" : nil)
    }

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
        await prometheus?.stop()
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
