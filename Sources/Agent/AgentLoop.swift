import Actions
import AgentCore
import ControlAPI
import Journal
import Logging
import Paging
import ProbeResults
import Probing
import Timekeeping

/// The unattended agent's executor. Every event (a turn of the loop, the Lease, a probe result,
/// an action's end, a person's approval) goes to the pure ``AgentCore``; this actor carries out
/// the commands it returns — probes, pages, actions, proposals, reads of the ownership records —
/// one piece of work at a time per target (``WorkQueue``), its periodic duties as ``Duties`` say.
/// It holds no decision of its own, and no tick: it sleeps until the core's next timer
/// (``AgentCore/nextTick``) or the next duty, unless news (an event from outside a turn) wakes it.
public actor AgentLoop {
    var core: AgentCore
    let parts: Parts
    /// Every probe spec, by name: each is an endpoint with its own stream.
    let specs: [String: ProbeSpec]
    /// Work for the task group of ``run()``; with ``Parts/inline``, for the end of ``step()``.
    private var spawner: AsyncStream<Job>.Continuation?
    private var inlineWork: [Job] = []
    private var queue = WorkQueue<Job>()
    var duties: Duties
    /// Raised by ``stop()``: the loop stops taking work and lets the actions in flight end.
    public nonisolated let stopRequest = StopSignal()
    /// Ends the loop's sleep: an event came from outside a turn, work ended, or a stop.
    nonisolated let wakeup = Wakeup()
    /// Approved proposals about to be carried out: what each target is to write.
    var approvedPlans: [String: [ProposedPlan]] = [:]
    /// Per group or target: why its last proposal was superseded, told in the next one's page.
    var superseded: [String: String] = [:]
    var readiness = ReadinessBoard()
    /// Series of the gateway's counters no subject takes, already logged.
    var unmappedSeries: Set<String> = []
    var drillHistoryRead = false
    var history = ActionHistory()

    public init(core: AgentCore, parts: Parts) {
        self.core = core
        self.parts = parts
        specs = Dictionary(parts.specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        duties = Duties(
            readinessInterval: parts.readinessInterval, trafficInterval: parts.traffic.map { $0.settings.interval / .seconds(1) }.min(),
            drills: !core.settings.drills.isEmpty)
        parts.metrics.declare(core, subjects: Set(parts.specs.map(\.subject)).sorted())
        parts.election?.afterEachStep { [wakeup] in wakeup.raise() }
    }

    /// Every action's report so far, in the order they ended.
    public var actionsDone: [ActionReport] { history.reports }

    /// Seconds since the agent started, on ``Parts/clock``.
    public var now: Double { parts.clock.seconds }

    typealias Job = @Sendable () async -> Void

    /// Takes turns (``step()``), sleeping between them until the next is due or news comes, until
    /// ``stop()`` (then lets the actions in flight end) or until the task is cancelled (then
    /// everything in flight is cancelled: what is owed stays recorded, as after a crash). Every
    /// task it starts is a child of one task group, so nothing outlives it.
    public func run() async {
        let (jobs, spawner) = AsyncStream.makeStream(of: Job.self)
        self.spawner = spawner
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled, !self.stopRequest.isRaised {
                    await self.wakeup.wait(until: await self.step(), on: self.parts.clock)
                }
                await self.windDown()
            }
            for await job in jobs { group.addTask { await job() } }
        }
    }

    /// A graceful stop: no new work; actions in flight stop waiting on deploys and end.
    public nonisolated func stop() {
        stopRequest.raise()
        wakeup.raise()
    }

    /// One turn: the Lease and the core's timers (the probes due, proposals expired, reads and
    /// settlements due), then the duties due. With ``Parts/inline``, also all the work they started.
    /// Returns when the next turn is due, on ``Parts/clock``, if no news comes first.
    @discardableResult public func step() async -> Double {
        let leading = core.custody.leading
        let leaderPaused = parts.election?.leaderAnnotations?[LeaderElection.pausedKey].flatMap(Bool.init)
        await handle(.leadership(parts.runner.isLeader(), leaderPaused: leaderPaused))
        if core.custody.leading != leading { parts.metrics.leader(core.custody.leading) }
        await handle(.tick)
        for duty in duties.due(at: now) {
            switch duty {
            case .readTraffic: spawn { await self.readTraffic() }
            case .drills: await startDrills()
            case .checkReadiness:
                for executor in parts.runner.executors.values {
                    spawn {
                        let checks = await ReadinessBoard.run(executor, pagers: self.parts.pagers)
                        await self.readinessChecked(executor.target.name, checks)
                    }
                }
            }
        }
        while parts.inline, !inlineWork.isEmpty { await inlineWork.removeFirst()() }
        // Never sooner than 10 ms: a timer the core left due cannot spin the loop.
        return max(min(core.nextTick, duties.nextDue), now + 0.01)
    }

    private func windDown() async {
        queue.close()
        parts.runner.stop.raise()  // an action waiting on its deploy job stops waiting; what is owed stays recorded
        while !queue.isIdle, !Task.isCancelled { await wakeup.wait(until: .infinity, on: parts.clock) }
        spawner?.finish()
    }

    private func spawn(_ job: @escaping Job) {
        if parts.inline { inlineWork.append(job) } else { spawner?.yield(job) }
    }

    /// News from outside a turn: wakes the loop, to reckon its next turn again, and is handled.
    func deliver(_ event: AgentCore.Event) async {
        wakeup.raise()
        await handle(event)
    }

    /// Feeds `event` to the core and carries out what it says.
    private func handle(_ event: AgentCore.Event) async {
        await execute(core.handle(event, at: now))
        parts.metrics.flags(paused: core.paused, blind: core.monitor.isBlind)
        parts.metrics.proposalExpiries(core, members: members(of:), now: now, wall: parts.clock.unixTime)
    }

    func execute(_ commands: [AgentCommand]) async {
        let runner = parts.runner
        for command in commands {
            switch command {
            case .alert(let alert): page(alert)
            case .log(let line):
                parts.logger.log(level: line.level.logging, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
            case .probe(let endpoints): for endpoint in endpoints { probe(endpoint) }
            case .execute(let kind, let provider, let target, let proposal):
                enqueue(members(of: target)) { await self.perform(kind, provider: provider, target: target, proposal: proposal) }
            case .propose(let kind, let provider, let target):
                enqueue(members(of: target)) { await self.propose(kind, provider: provider, target: target) }
            case .recoverJournal:
                for intent in await runner.openIntents() {
                    enqueue([intent.target]) {
                        guard let (kind, proposal, report) = await runner.recover(intent) else { return }
                        await self.reported(kind, provider: intent.provider, proposal: proposal, report, recovered: true)
                    }
                }
            case .readOwnership(let targets): readOwnership(targets)
            case .settle(let target): enqueue([target]) { await self.settled(runner.settleAgain(target, healthy: self.core.healthy)) }
            case .sharePause(let paused): parts.election?.publish(LeaderElection.pausedKey, paused.map { String($0) })
            case .markProposal(let id, let end):
                _ = try? await parts.journal.transition(
                    id, from: .approved, to: Journal.ProposalRecord.Status(rawValue: end.rawValue) ?? .failed)
            case .checkNextDeployment(let target, let provider, let watch, let awaited):
                checkNextDeployment(target, provider, watch, awaited)
            case .drill(let target, let provider): enqueue([target]) { await self.drill(target, provider: provider) }
            }
        }
    }

    private func probe(_ endpoint: String) {
        guard let spec = specs[endpoint] else { return }
        let (startedAt, probe) = (now, parts.probe)
        spawn { await self.probed(spec, result: await probe(spec), startedAt: startedAt) }
    }

    private func probed(_ spec: ProbeSpec, result: ProbeResult, startedAt: Double) async {
        parts.metrics.probed(result, at: parts.clock.unixTime)
        await deliver(.probed(endpoint: spec.name, result: result, startedAt: startedAt))
        parts.metrics.health(of: spec.subject, in: core)
    }

    /// The targets a command names: a group's, in file order, or the one target.
    func members(of unit: String) -> [String] { core.settings.groups[unit] ?? [unit] }

    /// Queues `work` on `targets` (see ``WorkQueue``) and starts what may start.
    func enqueue(_ targets: [String], key: String? = nil, _ work: @escaping Job) { start(queue.add(targets, key: key, work)) }

    private func start(_ admitted: [(targets: [String], work: Job)]) {
        for (targets, work) in admitted {
            spawn {
                await work()
                await self.start(self.finishedWork(targets))
            }
        }
    }

    private func finishedWork(_ targets: [String]) -> [(targets: [String], work: Job)] {
        wakeup.raise()
        return queue.finished(targets)
    }

    /// An action on a target or a group (an approved proposal writes on each target exactly what was approved).
    private func perform(_ kind: ActionKind, provider: String, target unit: String, proposal: String?) async {
        var about: Logger.Metadata = ["action": .string(kind.rawValue), "provider": .string(provider), "target": .string(unit)]
        about["proposal"] = proposal.map { .string($0) }
        parts.logger.notice("\(kind.rawValue) of \(provider) on \(unit)\(proposal.map { " (proposal \($0))" } ?? "")", metadata: about)
        let pins = proposal.flatMap { approvedPlans.removeValue(forKey: $0) }
        await parts.runner.run(
            kind, provider: provider, targets: pins.map { $0.map(\.target) } ?? members(of: unit), pins: pins, proposal: proposal,
            avoid: core.monitor.unhealthy
        ) { report in await self.reported(kind, provider: provider, proposal: proposal, report) }
    }

    /// What settling a target came to, and what the core is told then.
    func settled(_ result: (settled: ActionRunner.Settled?, then: AgentCore.Event?)) async {
        if let done = result.settled { await reported(done.kind, provider: done.provider, proposal: nil, done.report) }
        if let then = result.then { await deliver(then) }
    }

    /// Keeps, counts and hands to the core what an action came to.
    private func reported(_ kind: ActionKind, provider: String, proposal: String?, _ report: ActionReport, recovered: Bool = false) async {
        let target = report.target
        if recovered { parts.logger.notice("recovered an interrupted action on \(target): \(report.outcome.summary)") }
        history.add(kind, provider: provider, report, at: parts.clock.unixTime)
        parts.metrics.acted(kind.rawValue, target: target, outcome: report.outcome.metricLabel)
        let awaiting = parts.runner.executors[target]?.gateway != nil ? report.awaiting : nil
        await deliver(
            .finished(ActionFinished(kind, provider: provider, proposal: proposal, report, recovered: recovered, awaiting: awaiting)))
    }

    /// A restore written without a redeploy is verified once the next deployment is out, or paged
    /// when none comes within the gateway's `next_deployment_timeout`: one check, as the core says.
    private func checkNextDeployment(_ target: String, _ provider: String, _ watch: Int, _ awaited: AwaitedDeployment) {
        let (runner, metrics) = (parts.runner, parts.metrics)
        spawn {
            guard let check = await runner.checkNextDeployment(of: target, provider: provider, awaited) else { return }
            if let outcome = check.metricLabel { metrics.acted("restore", target: target, outcome: outcome) }
            await self.deliver(.deploymentChecked(target: target, watch: watch, check))
        }
    }

    func page(_ alert: Alert) {
        parts.logger.info(
            "page \(alert.resolve ? "resolve" : alert.severity.rawValue): \(alert.summary.split(separator: "\n").first ?? "")")
        let parts = parts
        // A pager that is down never blocks the agent.
        spawn { await parts.pagers.deliver(alert, journal: parts.journal, logger: parts.logger, metrics: parts.metrics) }
    }
}
