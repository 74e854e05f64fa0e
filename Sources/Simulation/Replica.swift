import Actions
import Agent
import AgentCore
import Health
import Journal
import Synchronization
import Timekeeping

/// One replica of the agent: its core, its journal and its executor, as a process holds them.
/// A crash or a change of leader drops it; the next one starts from what survives a process —
/// the journal file (a restart on the same pod) or only the secret's metadata (another pod).
final class Replica: Sendable {
    let core: Mutex<AgentCore>
    let runner: ActionRunner
    let journalPath: String
    let lease: LeaseBudget

    init(world: SimulatedWorld, journalPath: String, lease: LeaseBudget) throws {
        let subjects = ["anthropic", "bedrock", "vertex"]
        let settings = AgentCore.Settings(
            targets: [(name: SimulatedWorld.targetName, mode: .perform)], emptyFailovers: world.planner.emptyFailovers(subjects))
        core = Mutex(AgentCore(settings: settings, providers: subjects, policy: HealthPolicy()))
        let journal = try Journal(path: journalPath, clock: world.clock)
        runner = ActionRunner(journal: journal, executors: [try world.executor()], isLeader: { [lease] in lease.ask() })
        self.journalPath = journalPath
        self.lease = lease
    }

    /// Feeds one event to the core at `now`.
    func handle(_ event: AgentCore.Event, at now: Double) -> [AgentCommand] { core.withLock { $0.handle(event, at: now) } }

    var isBlind: Bool { core.withLock { $0.monitor.isBlind } }
    var unhealthy: Set<String> { core.withLock { $0.monitor.unhealthy } }
}

/// How many more times a replica may be asked whether it leads before it is gone: the journal
/// asks before every step, the executor before every write. Unlimited unless a fault says.
final class LeaseBudget: Sendable {
    private let left: Atomic<Int>

    init(_ questions: Int = .max) { left = Atomic(questions) }

    /// Whether the replica still leads (and counts the question).
    func ask() -> Bool { left.wrappingSubtract(1, ordering: .relaxed).newValue >= 0 }

    /// Whether it ran out: the process crashed or lost the Lease.
    var gone: Bool { left.load(ordering: .relaxed) < 0 }
}
