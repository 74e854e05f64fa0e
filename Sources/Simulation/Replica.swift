import Actions
import Agent
import AgentCore
import ControlSimulators
import HTTP
import Health
import Journal
import Lifecycle
import Paging
import ProbeResults
import Probing
import Synchronization
import Telemetry
import Timekeeping
import TrafficClient

/// One replica of the agent as a process holds it: the real ``AgentLoop`` (inline: every turn
/// runs the work it starts, in order) with its core, journal, runner and pagers. A crash or a
/// change of leader drops it; the next one starts from what survives a process — the journal
/// file (a restart on the same pod) or only the secret's metadata (another pod).
final class Replica: Sendable {
    static let subjects = ["anthropic", "bedrock", "vertex"]
    let loop: AgentLoop
    let runner: ActionRunner
    let journalPath: String
    let lease: LeaseBudget

    init(
        world: SimulatedWorld, journalPath: String, lease: LeaseBudget, mode: ActionMode,
        probe: @escaping @Sendable (ProbeSpec) async -> ProbeResult
    ) throws {
        var settings = AgentCore.Settings(
            targets: [(name: SimulatedWorld.targetName, mode: mode)], emptyFailovers: world.planner.emptyFailovers(Self.subjects))
        settings.drills = world.drill.map { [SimulatedWorld.targetName: $0] } ?? [:]
        if world.prometheus != nil { (settings.trafficStaleAfter, settings.trafficWindow) = (120, PrometheusSimulator.window) }
        let journal = try Journal(path: journalPath, clock: world.clock)
        var executor = try world.executor()
        // A failover's pre-flight probes its replacements as the running agent does, answered from the incident too.
        executor.preflight = { [catalog = world.planner.catalog] models in
            var classes: [String: String] = [:]
            for model in models {
                guard let provider = catalog[model]?.provider else { continue }
                let spec = ProbeSpec(provider: provider, name: "preflight-\(model)", model: model, url: "http://127.0.0.1:9/\(model)")
                classes[model] = await probe(spec).resultClass.rawValue
            }
            return classes
        }
        runner = ActionRunner(journal: journal, executors: [executor], isLeader: { [lease] in lease.ask() })
        let pager = try Pager(
            settings: .pagerDuty(routingKey: .environment("PD"), url: world.pagers.url), client: world.client,
            environment: ["PD": "simulated-routing-key"], clock: world.clock)
        // The probes' requests never leave: `probe` answers them from the incident.
        let specs = Self.subjects.map { ProbeSpec(provider: $0, name: $0, url: "http://127.0.0.1:9/\($0)") }
        var parts = AgentLoop.Parts(
            specs: specs, prober: Prober(client: world.client, clock: world.clock), runner: runner, pagers: Pagers([pager]),
            journal: journal, logger: .silent,
            clock: world.clock)
        parts.inline = true
        parts.probe = probe
        if let prometheus = world.prometheus {
            let settings = TrafficSettings(url: prometheus.url, interval: .seconds(Int64(PrometheusSimulator.window)))
            parts.traffic = [
                try TrafficSource(
                    settings: settings, mapping: TrafficMapping(catalog: world.planner.catalog, subjects: Set(Self.subjects)),
                    client: world.client, environment: [:], clock: world.clock)
            ]
        }
        loop = AgentLoop(core: AgentCore(settings: settings, providers: Self.subjects, policy: HealthPolicy()), parts: parts)
        self.journalPath = journalPath
        self.lease = lease
    }
}

/// Whether a replica still leads: it is gone once the world has taken `writes` more writes
/// (requests other than GET to Vault or GitLab) after it started — a crash, or the Lease lost,
/// between any two of an action's writes. Unlimited unless a fault says.
final class LeaseBudget: Sendable {
    private let limit: Int?
    private let world: SimulatedWorld
    private let lost = Atomic<Bool>(false)

    init(world: SimulatedWorld, writes: Int? = nil) {
        self.world = world
        limit = writes.map { world.writes + $0 }
    }

    /// Whether the replica still leads; once not, never again.
    func ask() -> Bool {
        if let limit, world.writes >= limit { lost.store(true, ordering: .relaxed) }
        return !gone
    }

    /// Whether it ran out: the process crashed or lost the Lease.
    var gone: Bool { lost.load(ordering: .relaxed) }
}
