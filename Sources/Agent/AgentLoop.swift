import Actions
import AgentCore
import ControlAPI
import Foundation
import Health
import Journal
import Logging
import Paging
import ProbeResults
import Probing
import Telemetry
import Timekeeping
import TrafficClient

/// The unattended agent's executor. Every event (a tick, the Lease, a probe result, an action's
/// end, a person's approval) goes to the pure ``AgentCore``; this actor carries out the commands
/// it returns: probes, pages, journaled actions (one at a time per target), proposals, reads of
/// the ownership records, metrics and logs. It holds no decision of its own.
public actor AgentLoop {
    public struct Parts: Sendable {
        public var specs: [ProbeSpec]
        public var prober: Prober
        public var runner: ActionRunner
        public var pagers: Pagers
        public var journal: Journal
        /// What a page tells a person to type, e.g. `failover-agent approve`.
        public var approveCommand: String
        public var metrics: AgentMetrics
        /// With several replicas: the Lease, through which the leader's pause reaches every replica.
        public var election: LeaderElection?
        /// Lines carry `provider`, `target`, `action` and `proposal` metadata where they are about one.
        public var logger: Logger
        /// The loop's time: its ticks, the core's clock, proposal lifetimes.
        public var clock: any AgentClock
        /// How often every target's readiness checks run (reads only), in seconds of ``clock``.
        public var readinessInterval: Double
        /// The targets' traffic sources (`targets[].traffic`), read together every shortest interval.
        public var traffic: [TrafficSource] = []

        public init(
            specs: [ProbeSpec], prober: Prober, runner: ActionRunner, pagers: Pagers, journal: Journal,
            approveCommand: String = "failover-agent approve",
            metrics: AgentMetrics = .discarded, election: LeaderElection? = nil, logger: Logger, clock: any AgentClock = WallClock(),
            readinessInterval: Double = 300
        ) {
            self.clock = clock
            self.readinessInterval = readinessInterval
            self.specs = specs
            self.prober = prober
            self.runner = runner
            self.pagers = pagers
            self.journal = journal
            self.approveCommand = approveCommand
            self.metrics = metrics
            self.election = election
            self.logger = logger
        }
    }

    var core: AgentCore
    let parts: Parts
    /// Every probe spec, by name: each is an endpoint with its own stream.
    let specs: [String: ProbeSpec]
    /// Work for the task group of ``run(tick:)``, which owns every task the loop starts.
    private var spawner: AsyncStream<Job>.Continuation?
    /// Targets with an action (or read) under way, and the work waiting for them, first come first served.
    private var busy: Set<String> = []
    private var waiting: [(targets: [String], job: Job)] = []
    /// Targets whose ownership record is queued to be read.
    private var readsQueued: Set<String> = []
    /// Raised by ``stop()``: the loop stops taking work and lets the actions in flight end.
    public nonisolated let stopRequest = StopSignal()
    /// Approved proposals about to be carried out: what each target is to write.
    var approvedPlans: [String: [ProposedPlan]] = [:]
    /// Per group or target: why its last proposal was superseded, told in the next one's page.
    var superseded: [String: String] = [:]
    /// Per target: waiting for the next deployment to verify a restore written without a redeploy.
    private var watches: [String: StopSignal] = [:]
    private var stopping = false
    /// Each target's readiness checks as last run.
    var readiness: [String: [ReadinessCheck]] = [:]
    /// Series of the gateway's counters no subject takes, already logged.
    var unmappedSeries: Set<String> = []
    /// A traffic reading is under way.
    var readingTraffic = false
    /// Whoever follows the loop's ticks (``ticks()``).
    private var tickObservers: [AsyncStream<Double>.Continuation] = []
    public private(set) var actionsDone: [ActionReport] = []
    /// The last 20 actions, newest first, as `/status` shows them.
    var recentActions: [JSONValue] = []

    public init(core: AgentCore, parts: Parts) {
        self.core = core
        self.parts = parts
        specs = Dictionary(parts.specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Seconds since the agent started, on ``Parts/clock``.
    public var now: Double { parts.clock.seconds }

    typealias Job = @Sendable () async -> Void

    /// Probes and acts until ``stop()`` (then lets the actions in flight end) or until the task is
    /// cancelled (then everything in flight is cancelled: what is owed stays recorded, as after
    /// a crash). Every task it starts (probes, pages, actions, watches) is a child of one task
    /// group, so nothing outlives it.
    public func run(tick: Duration = .milliseconds(50)) async {
        let (jobs, spawner) = AsyncStream.makeStream(of: Job.self)
        self.spawner = spawner
        await withDiscardingTaskGroup { group in
            group.addTask { await self.ticking(tick) }
            for await job in jobs { group.addTask { await job() } }
        }
    }

    /// A graceful stop: no new work; actions in flight stop waiting on deploys and end.
    public nonisolated func stop() { stopRequest.raise() }

    private func ticking(_ tick: Duration) async {
        let subjects = Set(specs.values.map(\.subject)).sorted()
        parts.metrics.declare(targets: core.settings.targets.map(\.name), providers: subjects)
        parts.metrics.leader(false)
        parts.metrics.flags(paused: core.paused, blind: core.monitor.isBlind)
        for subject in subjects { recordHealth(subject) }
        var lastSecond = -Double.infinity
        var lastReadiness = -Double.infinity
        var lastTraffic = -Double.infinity
        let trafficInterval = parts.traffic.map { $0.settings.interval / .seconds(1) }.min() ?? .infinity
        while !Task.isCancelled && !stopRequest.isRaised {
            let leading = core.custody.leading
            let leaderPaused = parts.election?.leaderAnnotations?[LeaderElection.pausedKey].flatMap(Bool.init)
            await deliver(.leadership(parts.runner.isLeader(), leaderPaused: leaderPaused))
            if core.custody.leading != leading { parts.metrics.leader(core.custody.leading) }
            await deliver(.tick)
            for observer in tickObservers { observer.yield(now) }
            if now - lastSecond >= 1 {
                lastSecond = now
                recordProposalExpiry()
            }
            // One reading at a time, so they reach the core in order.
            if now - lastTraffic >= trafficInterval, !readingTraffic {
                lastTraffic = now
                readingTraffic = true
                spawn { await self.readTraffic() }
            }
            if now - lastReadiness >= parts.readinessInterval {
                lastReadiness = now
                for executor in parts.runner.executors.values { spawn { await self.checkReadiness(executor) } }
            }
            try? await parts.clock.sleep(for: tick)
        }
        stopping = true
        waiting = []
        for watch in watches.values { watch.raise() }
        parts.runner.stop.raise()  // an action waiting on its deploy job stops waiting; what is owed stays recorded
        while !busy.isEmpty, !Task.isCancelled { try? await parts.clock.sleep(for: .milliseconds(20)) }
        for observer in tickObservers { observer.finish() }
        tickObservers = []
        spawner?.finish()
    }

    /// The time of each tick from now on, once the core has handled it; ends when the loop
    /// does. A test waits on the loop's own progress with it, never on the machine's clock.
    public func ticks() -> AsyncStream<Double> {
        let (stream, continuation) = AsyncStream.makeStream(of: Double.self, bufferingPolicy: .bufferingNewest(1))
        if stopping { continuation.finish() } else { tickObservers.append(continuation) }
        return stream
    }

    /// Starts `job` in the loop's task group (nothing once the loop has stopped).
    private func spawn(_ job: @escaping Job) { spawner?.yield(job) }

    /// Feeds `event` to the core and carries out what it says.
    func deliver(_ event: AgentCore.Event) async {
        await execute(core.handle(event, at: now))
        parts.metrics.flags(paused: core.paused, blind: core.monitor.isBlind)
    }

    func execute(_ commands: [AgentCommand]) async {
        for command in commands {
            switch command {
            case .alert(let alert): page(alert)
            case .log(let line):
                parts.logger.log(level: line.level.logging, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
            case .probe(let endpoints): for endpoint in endpoints { launch(endpoint) }
            case .execute(let kind, let provider, let target, let proposal):
                enqueue(members(of: target)) { await self.perform(kind, provider: provider, target: target, proposal: proposal) }
            case .propose(let kind, let provider, let target):
                enqueue(members(of: target)) { await self.propose(kind, provider: provider, target: target) }
            case .recoverJournal:
                // Each interrupted action is an action like any other: queued on its target while
                // the loop goes on probing and deciding, its outcome paged and counted.
                for intent in await parts.runner.openIntents() {
                    enqueue([intent.target]) { await self.recover(intent) }
                }
            case .readOwnership(let targets): readOwnership(targets)
            case .settle(let target): enqueue([target]) { await self.settle(target) }
            case .sharePause(let paused): parts.election?.publish(LeaderElection.pausedKey, paused.map { String($0) })
            case .markProposal(let id, let end):
                _ = try? await parts.journal.transition(
                    id, from: .approved, to: Journal.ProposalRecord.Status(rawValue: end.rawValue) ?? .failed)
            case .watchNextDeployment(let target, let provider): watchNextDeployment(of: target, provider: provider)
            }
        }
    }

    private func launch(_ endpoint: String) {
        guard let spec = specs[endpoint] else { return }
        let startedAt = now
        let prober = parts.prober
        spawn {
            let result = await prober.probe(spec)
            await self.probed(spec, result: result, startedAt: startedAt)
        }
    }

    private func recover(_ intent: Journal.Intent) async {
        guard let (kind, proposal, report) = await parts.runner.recover(intent) else { return }
        parts.logger.notice(
            "recovered an interrupted action on \(report.target): \(report.outcome.summary)", metadata: ["target": .string(report.target)])
        await reported(kind, provider: intent.provider, target: intent.target, proposal: proposal, report, recovered: true)
    }

    private func probed(_ spec: ProbeSpec, result: ProbeResult, startedAt: Double) async {
        parts.metrics.probed(result, at: parts.clock.unixTime)
        await deliver(.probed(endpoint: spec.name, result: result, startedAt: startedAt))
        recordHealth(spec.subject)
    }

    /// Settles what each target's secret records as under way, then reads what it says the agent
    /// has failed over, so a restarted agent or a new leader still restores it. Each target's
    /// read waits its turn behind that target's actions, and is handed to the core on its own.
    private func readOwnership(_ targets: [String]) {
        for target in targets where readsQueued.insert(target).inserted {
            enqueue([target]) { await self.readOwnership(of: target) }
        }
    }

    private func readOwnership(of target: String) async {
        readsQueued.remove(target)
        let runner = parts.runner
        let found: Result<[String], Custody.ReadFailure>
        do throws(ControlError) {
            if let (action, provider, report) = try await runner.settle(target) {
                await reported(ActionKind(rawValue: action) ?? .failover, provider: provider, target: target, proposal: nil, report)
            }
            found = .success(try await runner.executors[target]!.failedOverProviders())
        } catch { found = .failure(Custody.ReadFailure(error.description)) }
        await deliver(.ownershipRead([target: found]))
    }

    private func settle(_ target: String) async {
        do {
            guard let (action, provider, report) = try await parts.runner.settle(target) else {
                await deliver(.settleUnreadable(target: target, why: nil))
                return
            }
            await reported(ActionKind(rawValue: action) ?? .failover, provider: provider, target: target, proposal: nil, report)
        } catch {
            await deliver(.settleUnreadable(target: target, why: error.description))
        }
    }

    /// The targets a command names: a group's, in file order, or the one target.
    func members(of unit: String) -> [String] { core.settings.groups[unit] ?? [unit] }

    /// Actions on one target run one after another, first come first served; the next waits for
    /// the previous. A group's action waits for, and holds up, each of its targets.
    private func enqueue(_ targets: [String], _ work: @escaping Job) {
        guard !stopping else { return }
        waiting.append((targets, work))
        startWaiting()
    }

    private func startWaiting() {
        var held = busy
        var still: [(targets: [String], job: Job)] = []
        for item in waiting {
            defer { held.formUnion(item.targets) }
            guard held.isDisjoint(with: item.targets) else {
                still.append(item)
                continue
            }
            busy.formUnion(item.targets)
            let (targets, job) = item
            spawn {
                await job()
                await self.done(targets)
            }
        }
        waiting = still
    }

    private func done(_ targets: [String]) {
        busy.subtract(targets)
        startWaiting()
    }

    /// Carries out an action on a target, or on each target of a group in turn: one incident, so
    /// the first failover's change request is carried on in by the others, and only the last
    /// restore closes it. An approved proposal writes on each target exactly what was approved.
    private func perform(_ kind: ActionKind, provider: String, target unit: String, proposal: String?) async {
        var about: Logger.Metadata = ["action": .string(kind.rawValue), "provider": .string(provider), "target": .string(unit)]
        about["proposal"] = proposal.map { .string($0) }
        parts.logger.notice("\(kind.rawValue) of \(provider) on \(unit)\(proposal.map { " (proposal \($0))" } ?? "")", metadata: about)
        let pins = proposal.flatMap { approvedPlans.removeValue(forKey: $0) }
        let targets = pins.map { pins in pins.map(\.target) } ?? members(of: unit)
        var shared: Int?
        for (index, target) in targets.enumerated() {
            let terms = ActionTerms(
                pinned: pins?.first { $0.target == target }?.pinned, groupMembers: targets.filter { $0 != target },
                sharedChangeRequest: kind == .failover ? shared : nil, closesChangeRequest: index == targets.count - 1)
            let report = await parts.runner.run(
                kind, provider: provider, target: target, proposal: proposal, avoid: core.monitor.unhealthy, terms: terms)
            if kind == .failover, shared == nil { shared = report.changeRequest }
            await reported(kind, provider: provider, target: target, proposal: proposal, report)
        }
    }

    /// Keeps, counts and hands to the core what an action came to.
    private func reported(
        _ kind: ActionKind, provider: String, target: String, proposal: String?, _ report: ActionReport, recovered: Bool = false
    ) async {
        actionsDone.append(report)
        let entry: [String: JSONValue] = [
            "at": .string(Date(timeIntervalSince1970: parts.clock.unixTime).formatted(.iso8601)), "action": .string(kind.rawValue),
            "provider": .string(provider),
            "target": .string(target),
            "outcome": .string(report.outcome.metricLabel), "summary": .string(report.outcome.summary),
            "sha": report.deploySHA.map { .string($0) } ?? .null, "verified": report.verified.map { .bool($0) } ?? .null,
        ]
        recentActions = Array(([JSONValue.object(entry)] + recentActions).prefix(20))
        parts.metrics.acted(kind.rawValue, target: target, outcome: report.outcome.metricLabel)
        if let awaited = report.awaiting { awaiting[target] = awaited }
        await deliver(
            .finished(
                ActionFinished(
                    kind: kind, provider: provider, target: target, proposal: proposal, outcome: report.outcome,
                    leftToPeople: report.leftToPeople,
                    changeRequestProblem: report.changeRequestProblem,
                    awaitsDeployment: report.awaiting != nil && parts.runner.executors[target]?.gateway != nil, verified: report.verified,
                    recovered: recovered, warnings: report.warnings, deployDecision: report.deployDecision)))
    }

    /// What a restore written without a redeploy waits to see deployed, per target.
    private var awaiting: [String: AwaitedDeployment] = [:]

    /// A restore written without a redeploy is verified once the next deployment is out, or paged
    /// when none comes within the gateway's `next_deployment_timeout`.
    private func watchNextDeployment(of target: String, provider: String) {
        guard let executor = parts.runner.executors[target], let awaited = awaiting.removeValue(forKey: target) else { return }
        var logger = parts.logger
        logger[metadataKey: "target"] = .string(target)
        logger[metadataKey: "provider"] = .string(provider)
        logger.info("\(target): waiting for the next deployment to verify the restore of \(provider)")
        watches[target]?.raise()
        let stop = StopSignal()
        watches[target] = stop
        let (journal, metrics) = (parts.journal, parts.metrics)
        spawn {
            let problem = await executor.verifyNextDeployment(awaited, stop: { stop.isRaised })
            guard !stop.isRaised else { return }
            let summary = problem.map { "not verified: \($0)" } ?? "verified live after the next deployment"
            _ = try? await journal.record("verification", target: target, provider: provider, detail: "restore \(summary)")
            metrics.acted("restore", target: target, outcome: problem == nil ? "verified" : "not_verified")
            await self.deliver(.deploymentVerified(target: target, provider: provider, problem: problem))
        }
    }

    func page(_ alert: Alert) {
        parts.logger.info(
            "page \(alert.resolve ? "resolve" : alert.severity.rawValue): \(alert.summary.split(separator: "\n").first ?? "")")
        let pagers = parts.pagers
        let logger = parts.logger
        let metrics = parts.metrics
        let journal = parts.journal
        spawn {  // a pager that is down never blocks the agent
            _ = try? await journal.record("alert", detail: alert.summary)
            let failures = await pagers.send(Page(alert))
            for failure in failures { logger.error("page not delivered by \(failure.pager): \(failure.error)") }
            metrics.paged(delivered: failures.isEmpty)
        }
    }

    func recordHealth(_ subject: String) {
        guard let health = core.monitor.machines[subject] else { return }
        parts.metrics.health(
            of: subject, state: health.state.rawValue, errorRate: health.errorRate, probeBroken: health.brokenProbe != nil)
    }

    /// Each target's first open proposal expiry, as Unix time (0 when none is open).
    private func recordProposalExpiry() {
        let wall = parts.clock.unixTime
        for target in core.settings.targets.map(\.name) {
            let first = core.proposals.values.filter { members(of: $0.target).contains(target) && $0.status == .open }.map(\.expires)
                .min()
            parts.metrics.proposalExpiry(target: target, at: first.map { wall + $0 - now })
        }
    }
}

extension LogLine.Level {
    /// The swift-log level of a core log line.
    var logging: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }
}
