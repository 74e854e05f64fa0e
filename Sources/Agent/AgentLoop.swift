import AgentCore
import Control
import Foundation
import Health
import Journal
import ProbeResults
import Probing
import Telemetry

/// The unattended agent: probes every provider on the scheduler's cadence, feeds the pure
/// ``AgentCore``, and carries out what it decides (pages, proposals, journaled actions, one at a
/// time per target). Approvals, rejections and the kill switch come in through ``approve(_:)``,
/// ``reject(_:)`` and ``setPaused(_:)``.
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
        public var log: @Sendable (String) -> Void

        public init(
            specs: [ProbeSpec], prober: Prober, runner: ActionRunner, pagers: Pagers, journal: Journal, approveCommand: String = "failover-agent approve",
            metrics: AgentMetrics = .discarded, election: LeaderElection? = nil, log: @escaping @Sendable (String) -> Void
        ) {
            self.specs = specs
            self.prober = prober
            self.runner = runner
            self.pagers = pagers
            self.journal = journal
            self.approveCommand = approveCommand
            self.metrics = metrics
            self.election = election
            self.log = log
        }
    }

    struct Stream {
        var spec: ProbeSpec
        var nextStart: Double
        var lastStart = -Double.infinity
        var inFlight = 0
        var last: ProbeResult?
    }

    private var core: AgentCore
    private let parts: Parts
    private let scheduler: ProbeScheduler
    private let origin = ContinuousClock.now
    private var streams: [String: Stream] = [:]
    private var chains: [String: Task<Void, Never>] = [:]
    /// Per target: waiting for the next deployment to verify a restore written without a redeploy.
    private var watches: [String: Task<Void, Never>] = [:]
    private var stopping = false
    /// Targets whose ownership record is not read yet (Vault may be down when the agent starts).
    private var ownershipUnread: Set<String> = []
    private var ownershipRetry = (at: 0.0, delay: 1.0, reading: false)
    /// Providers failed over on some target, per the ownership records read since taking the lead.
    private var ownedProviders: Set<String> = []
    private var leading = false
    /// Targets whose last action or settlement failed part-way: what their secret records as
    /// under way (an owed redeploy) is settled again then, backing off up to a minute.
    private var settleRetry: [String: (at: Double, delay: Double)] = [:]
    public private(set) var actionsDone: [ActionReport] = []
    /// The last 20 actions, newest first, as `/status` shows them.
    private var recentActions: [JSONValue] = []

    public init(core: AgentCore, parts: Parts) {
        self.core = core
        self.parts = parts
        scheduler = ProbeScheduler(policy: core.monitor.policy)
        var seen = Set<String>()
        let specs = parts.specs.filter { seen.insert($0.provider).inserted }  // one probe stream per provider
        for (provider, at) in scheduler.firstProbes(specs.map(\.provider)) {
            streams[provider] = Stream(spec: specs.first { $0.provider == provider }!, nextStart: at)
        }
    }

    /// Seconds since the agent started.
    public var now: Double { (ContinuousClock.now - origin) / .seconds(1) }

    /// Finishes interrupted actions, then probes and acts until the task is cancelled; then
    /// lets the actions in flight finish.
    public func run(tick: Duration = .milliseconds(50)) async {
        var lastTick = 0.0
        parts.metrics.declare(targets: core.settings.targets.map(\.name), providers: streams.keys.sorted())
        parts.metrics.leader(false)
        parts.metrics.flags(paused: core.paused, blind: core.monitor.isBlind)
        for provider in streams.keys { recordHealth(provider) }
        while !Task.isCancelled {
            let leader = parts.runner.isLeader()
            if leader != leading {
                leading = leader
                parts.metrics.leader(leader)
                if leader { await tookTheLead() }
            }
            sharePause(leader: leader)
            let now = now
            for (provider, stream) in streams where stream.nextStart <= now && stream.inFlight < core.monitor.policy.maxInFlight {
                launch(provider, at: now)
            }
            if now - lastTick >= 1 {
                lastTick = now
                handle(core.tick(at: now))
                recordProposalExpiry(now: now)
                if now >= ownershipRetry.at { readOwnership() }
                for (target, retry) in settleRetry where retry.at <= now {
                    settleRetry[target]!.at = .infinity
                    enqueue(target) { await self.settleAgain(target) }
                }
            }
            try? await Task.sleep(for: tick)
        }
        stopping = true
        for watch in watches.values { watch.cancel() }
        parts.runner.stop.raise()  // an action waiting on its deploy job stops waiting; what is owed stays recorded
        for chain in chains.values { await chain.value }
    }

    /// The leader publishes its pause in the Lease; followers take the leader's, so a new leader
    /// starts as paused as the last one was.
    private func sharePause(leader: Bool) {
        guard let election = parts.election else { return }
        election.publish(LeaderElection.pausedKey, leader ? String(core.paused) : nil)  // a follower's own value is never written
        if !leader, let shared = election.leaderAnnotations?[LeaderElection.pausedKey].flatMap(Bool.init), shared != core.paused {
            core.setPaused(shared)
            parts.log(shared ? "paused by the leader: acting on nothing, here or after taking the lead" : "resumed by the leader")
            parts.metrics.flags(paused: core.paused, blind: core.monitor.isBlind)
        }
    }

    /// On start, or on winning the Lease: finish what a crash interrupted, then learn from the
    /// secrets what is failed over, and catch up on failovers decided while following.
    private func tookTheLead() async {
        for report in await parts.runner.recover() {
            parts.log("recovered an interrupted action on \(report.target): \(report.outcome.summary)")
        }
        ownershipUnread = Set(parts.runner.executors.keys)
        ownedProviders = []
        ownershipRetry = (0, 1, ownershipRetry.reading)
        readOwnership()
    }

    /// Settles what each target's secret records as under way (a redeploy owed by a replica that
    /// died, or a write that never happened), then reads what it says the agent has failed over,
    /// so a restarted agent or a new leader still restores it; retried with backoff (up to a
    /// minute) while Vault cannot be read or an owed redeploy fails.
    private func readOwnership() {
        guard !ownershipUnread.isEmpty, !ownershipRetry.reading else { return }
        ownershipRetry.reading = true
        let runner = parts.runner
        let targets = ownershipUnread.sorted()
        Task {
            var found: [String: Result<[String], ControlError>] = [:]
            for target in targets {
                do throws(ControlError) {
                    if let (action, provider, report) = try await runner.settle(target) {
                        self.reported(ActionKind(rawValue: action) ?? .failover, provider: provider, target: target, report)
                    }
                    found[target] = .success(try await runner.executors[target]!.failedOverProviders())
                } catch { found[target] = .failure(error) }
            }
            self.ownershipRead(found)
        }
    }

    private func ownershipRead(_ found: [String: Result<[String], ControlError>]) {
        ownershipRetry.reading = false
        var failed = false
        for (target, result) in found.sorted(by: { $0.key < $1.key }) {
            switch result {
            case .success(let providers):
                ownershipUnread.remove(target)
                ownedProviders.formUnion(providers)
                guard !providers.isEmpty else { continue }
                parts.log("\(target): its secret records \(providers.joined(separator: ", ")) as failed over by this agent; restoring once healthy")
                for case .state(let provider, let from, let to, _) in core.resumeFailedOver(providers, at: now) {
                    parts.log("\(provider): \(from.rawValue) → \(to.rawValue) (failed over before the restart)")
                    recordHealth(provider)
                }
            case .failure(let error):
                failed = true
                parts.log("\(target): cannot read what the agent owns in its secret, retrying in \(Int(ownershipRetry.delay)) s: \(error)")
            }
        }
        ownershipRetry.at = now + (failed ? ownershipRetry.delay : 0)
        ownershipRetry.delay = failed ? min(ownershipRetry.delay * 2, 60) : 1
        if ownershipUnread.isEmpty { handle(core.catchUp(owned: ownedProviders, at: now)) }
    }

    private func launch(_ provider: String, at now: Double) {
        streams[provider]!.inFlight += 1
        streams[provider]!.lastStart = now
        streams[provider]!.nextStart = scheduler.nextStart(lastStart: now, now: now, health: core.monitor.providers[provider])
        let spec = streams[provider]!.spec
        let prober = parts.prober
        Task {
            let result = await prober.probe(spec)
            self.completed(provider, startedAt: now, result: result)
        }
    }

    private func completed(_ provider: String, startedAt: Double, result: ProbeResult) {
        let now = now
        streams[provider]!.inFlight -= 1
        streams[provider]!.last = result
        let observation = Observation(provider: provider, resultClass: result.resultClass, ttfbMs: result.status == nil ? nil : result.ttfbMs, startedAt: startedAt, completedAt: now)
        let before = core.monitor.state(of: provider)
        let wasBlind = core.monitor.isBlind
        let commands = core.observe(observation)
        parts.metrics.probed(result, at: Date().timeIntervalSince1970)
        recordHealth(provider)
        if let after = core.monitor.state(of: provider), after != before {
            parts.log("\(provider): \(before?.rawValue ?? "?") → \(after.rawValue) (last probe \(result.resultClass.rawValue))")
        }
        parts.metrics.flags(paused: core.paused, blind: core.monitor.isBlind)
        if core.monitor.isBlind != wasBlind { parts.log(core.monitor.isBlind ? "blind: most providers fail without an answer" : "no longer blind") }
        streams[provider]!.nextStart = scheduler.nextStart(lastStart: streams[provider]!.lastStart, now: now, health: core.monitor.providers[provider])
        handle(commands)
    }

    private func recordHealth(_ provider: String) {
        guard let health = core.monitor.providers[provider] else { return }
        parts.metrics.health(of: provider, state: health.state.rawValue, errorRate: health.errorRate, probeBroken: health.brokenProbe != nil)
    }

    /// Each target's first open proposal expiry, as Unix time (0 when none is open).
    private func recordProposalExpiry(now: Double) {
        let wall = Date().timeIntervalSince1970
        for target in core.settings.targets.map(\.name) {
            let first = core.proposals.values.filter { $0.target == target && $0.status == .open }.map(\.expires).min()
            parts.metrics.proposalExpiry(target: target, at: first.map { wall + $0 - now })
        }
    }

    private func handle(_ commands: [AgentCommand]) {
        guard parts.runner.isLeader() else {
            for command in commands {
                switch command {
                case .alert(let alert): parts.log("not the leader, not paging: \(alert.summary.split(separator: "\n").first ?? "")")
                case .execute(let kind, let provider, let target, _), .propose(let kind, let provider, let target):
                    parts.log("not the leader: the \(kind.rawValue) of \(provider) on \(target) is the leader's to do")
                }
            }
            return
        }
        for command in commands {
            switch command {
            case .alert(let alert): page(alert)
            case .execute(let kind, let provider, let target, let proposal):
                enqueue(target) { await self.execute(kind, provider: provider, target: target, proposal: proposal) }
            case .propose(let kind, let provider, let target):
                enqueue(target) { await self.propose(kind, provider: provider, target: target) }
            }
        }
    }

    /// Actions on one target run one after another; the next waits for the previous.
    private func enqueue(_ target: String, _ work: @escaping @Sendable () async -> Void) {
        guard !stopping else { return }
        let previous = chains[target]
        chains[target] = Task {
            await previous?.value
            await work()
        }
    }

    private func execute(_ kind: ActionKind, provider: String, target: String, proposal: String?) async {
        parts.log("\(kind.rawValue) of \(provider) on \(target)\(proposal.map { " (proposal \($0))" } ?? "")")
        let report = await parts.runner.run(kind, provider: provider, target: target, proposal: proposal)
        if let proposal {
            let carriedOut: Bool
            if case .nothingToDo = report.outcome { carriedOut = true } else { carriedOut = report.outcome.changedTheSecret }
            _ = try? await parts.journal.transition(proposal, from: .approved, to: carriedOut ? .executed : .failed)
        }
        reported(kind, provider: provider, target: target, report)
    }

    private func retrySettling(_ target: String) {
        let delay = min((settleRetry[target]?.delay ?? 0.5) * 2, 60)
        settleRetry[target] = (now + delay, delay)
    }

    private func settleAgain(_ target: String) async {
        guard parts.runner.isLeader() else {
            settleRetry[target] = nil
            return
        }
        do {
            guard let (action, provider, report) = try await parts.runner.settle(target) else {
                settleRetry[target] = nil
                return
            }
            reported(ActionKind(rawValue: action) ?? .failover, provider: provider, target: target, report)
        } catch {
            parts.log("\(target): cannot read what is under way in its secret, retrying: \(error)")
            retrySettling(target)
        }
    }

    /// Logs, counts and pages what an action came to.
    private func reported(_ kind: ActionKind, provider: String, target: String, _ report: ActionReport) {
        if case .failed = report.outcome, parts.runner.isLeader() { retrySettling(target) } else { settleRetry[target] = nil }
        actionsDone.append(report)
        let entry: [String: JSONValue] = [
            "at": .string(Date().formatted(.iso8601)), "action": .string(kind.rawValue), "provider": .string(provider), "target": .string(target),
            "outcome": .string(report.outcome.metricLabel), "summary": .string(report.outcome.summary), "sha": report.deploySHA.map { .string($0) } ?? .null,
        ]
        recentActions = Array(([JSONValue.object(entry)] + recentActions).prefix(20))
        switch report.outcome {
        case .deployed, .deployFailed, .written, .notVerified: if kind == .failover { ownedProviders.insert(provider) } else { ownedProviders.remove(provider) }
        default: break
        }
        parts.metrics.acted(kind.rawValue, target: target, outcome: report.outcome.metricLabel)
        parts.log("\(kind.rawValue) of \(provider) on \(target): \(report.outcome.summary)")
        if !report.leftToPeople.isEmpty {
            page(Alert(
                dedupKey: "failover-agent/\(target)/\(provider)/edited",
                summary: "\(kind.rawValue) of \(provider) on \(target): \(report.leftToPeople.joined(separator: ", ")) changed by a person since the agent wrote it; left as it is and no longer the agent's. Check it is still right.",
                severity: .warning))
        }
        switch report.outcome {
        case .refused(let why), .failed(let why):
            page(Alert(dedupKey: "failover-agent/\(target)/\(provider)/action", summary: "\(kind.rawValue) of \(provider) on \(target) did not happen: \(why)", severity: .critical))
        case .interrupted(let why):
            page(Alert(dedupKey: "failover-agent/\(target)/\(provider)/action", summary: "\(kind.rawValue) of \(provider) on \(target): the secret was written and its deploy job retried; \(why)", severity: .warning))
        case .deployFailed(let status):
            page(Alert(dedupKey: "failover-agent/\(target)/\(provider)/action", summary: "\(kind.rawValue) of \(provider) on \(target): the deploy job \(status)", severity: .critical))
        case .notVerified(let why):
            page(Alert(dedupKey: "failover-agent/\(target)/\(provider)/action", summary: "\(kind.rawValue) of \(provider) on \(target) deployed but not verified: \(why)", severity: .critical))
        default: break
        }
        if let awaited = report.awaiting { watchNextDeployment(of: target, provider: provider, awaited) }
        if let problem = report.changeRequestProblem {
            page(Alert(dedupKey: "failover-agent/\(target)/\(provider)/change-request", summary: "\(kind.rawValue) of \(provider) on \(target) went ahead without its change request: \(problem)", severity: .warning))
        }
    }

    /// A restore written without a redeploy is verified once the next deployment is out.
    private func watchNextDeployment(of target: String, provider: String, _ awaited: AwaitedDeployment) {
        guard let executor = parts.runner.executors[target], executor.gateway != nil else { return }
        parts.log("\(target): waiting for the next deployment to verify the restore of \(provider)")
        watches[target]?.cancel()
        let (log, journal, metrics) = (parts.log, parts.journal, parts.metrics)
        watches[target] = Task {
            let problem = await executor.verifyNextDeployment(awaited)
            guard !Task.isCancelled else { return }
            let summary = problem.map { "not verified: \($0)" } ?? "verified live after the next deployment"
            log("restore of \(provider) on \(target): \(summary)")
            _ = try? await journal.record("verification", target: target, provider: provider, detail: "restore \(summary)")
            metrics.acted("restore", target: target, outcome: problem == nil ? "verified" : "not_verified")
            if let problem {
                self.page(Alert(dedupKey: "failover-agent/\(target)/\(provider)/action", summary: "restore of \(provider) on \(target): the next deployment does not serve it: \(problem)", severity: .critical))
            }
        }
    }

    /// Plans without acting, records a proposal and pages its approve command.
    private func propose(_ kind: ActionKind, provider: String, target: String) async {
        guard let executor = parts.runner.executors[target] else { return }
        let check = kind == .failover ? await executor.failover(provider: provider, apply: false) : await executor.restore(provider: provider, apply: false)
        guard check.outcome == .planned, let plan = check.plan, let sha = check.deploySHA, let version = check.secretVersion else {
            page(Alert(dedupKey: "failover-agent/\(target)/\(provider)/action", summary: "cannot propose the \(kind.rawValue) of \(provider) on \(target): \(check.outcome.summary)", severity: .critical))
            return
        }
        let now = now
        let id = await newProposalID()
        let proposal = Journal.Proposal(
            id: id, created: Date().timeIntervalSince1970, expires: Date().timeIntervalSince1970 + core.settings.proposalLifetime,
            action: kind.rawValue, target: target, provider: provider, plan: plan.override.json, sha: sha, secretVersion: version)
        do { try await parts.journal.save(proposal) } catch {
            parts.log("cannot journal proposal \(id): \(error)")
            return
        }
        core.opened(id: id, kind: kind, provider: provider, target: target, at: now)
        parts.metrics.proposed(kind.rawValue, target: target)
        parts.log("proposal \(id): \(kind.rawValue) of \(provider) on \(target); approve with: \(parts.approveCommand) \(id)")
        page(Alert(dedupKey: "failover-agent/proposal/\(id)", summary: "\(provider) on \(target): approve the \(kind.rawValue) with `\(parts.approveCommand) \(id)` (or reject it); it deploys \(sha.prefix(12)) and expires in \(core.settings.proposalLifetime >= 120 ? "\(Int(core.settings.proposalLifetime / 60)) min" : "\(Int(core.settings.proposalLifetime)) s").\n\(plan.diff(target: target))", severity: .critical))
    }

    public enum Answer: Sendable, Equatable {
        case accepted(String)
        case refused(String)
    }

    /// A person approved proposal `id`: re-validate (provider state, secret version, pipeline SHA)
    /// and act, or re-propose when the plan changed.
    public func approve(_ id: String) async -> Answer {
        guard parts.runner.isLeader() else { return .refused("this replica does not hold the Lease: approve on the leader (`leader: true` in its /status, `leader: yes` in `failover-agent status`)") }
        let command: AgentCommand
        do { command = try core.approve(id, at: now) } catch {
            _ = try? await parts.journal.transition(id, from: .open, to: error == .paused ? .open : .expired)
            return .refused(error.description)
        }
        guard case .execute(let kind, let provider, let target, _) = command, let stored = try? await parts.journal.proposal(id),
            (try? await parts.journal.transition(id, from: .open, to: .approved)) == true
        else { return .refused("proposal \(id) is not open in the journal") }
        _ = try? await parts.journal.record("approval", target: target, provider: provider, detail: "proposal \(id)")
        guard let executor = parts.runner.executors[target] else { return .refused("no target \(target)") }
        let check = kind == .failover ? await executor.failover(provider: provider, apply: false) : await executor.restore(provider: provider, apply: false)
        if check.plan?.override.json != stored.plan || check.deploySHA != stored.sha || check.secretVersion != stored.secretVersion {
            _ = try? await parts.journal.transition(id, from: .approved, to: .superseded)
            enqueue(target) { await self.propose(kind, provider: provider, target: target) }
            return .refused("the plan, secret version or pipeline changed since proposal \(id) was made: a new proposal is being paged")
        }
        enqueue(target) { await self.execute(kind, provider: provider, target: target, proposal: id) }
        return .accepted("approved \(id): \(kind.rawValue) of \(provider) on \(target) is under way")
    }

    public func reject(_ id: String) async -> Answer {
        if let stored = try? await parts.journal.proposal(id), stored.status != .open {
            return .refused("proposal \(id) is already \(stored.status.rawValue): there is nothing to reject")
        }
        do { try core.reject(id, at: now) } catch { return .refused(error.description) }
        _ = try? await parts.journal.transition(id, from: .open, to: .rejected)
        _ = try? await parts.journal.record("rejection", detail: "proposal \(id)")
        return .accepted("rejected \(id)")
    }

    public func setPaused(_ paused: Bool) async {
        core.setPaused(paused)
        _ = try? await parts.journal.record(paused ? "pause" : "resume", detail: paused ? "acting on nothing until resumed" : "acting again")
        parts.log(paused ? "paused: probing and paging, acting on nothing" : "resumed")
        parts.metrics.flags(paused: core.paused, blind: core.monitor.isBlind)
    }

    /// The agent's state for `/status`: each provider's health and evidence, open proposals, pause.
    public func status() -> JSONValue {
        var providers: [String: JSONValue] = [:]
        for (name, stream) in streams {
            let health = core.monitor.providers[name]
            providers[name] = .object([
                "state": .string(health?.state.rawValue ?? "unknown"), "error_rate": .number(((health?.errorRate ?? 0) * 1000).rounded() / 1000),
                "samples": .number(Double(health?.sampleCount ?? 0)), "last_class": stream.last.map { .string($0.resultClass.rawValue) } ?? .null,
                "last_ttfb_ms": stream.last.map { .number(($0.ttfbMs * 10).rounded() / 10) } ?? .null,
            ])
        }
        let now = now
        let open = core.proposals.values.filter { $0.status == .open }.sorted { $0.id < $1.id }.map { proposal -> JSONValue in
            .object([
                "id": .string(proposal.id), "action": .string(proposal.kind.rawValue), "provider": .string(proposal.provider), "target": .string(proposal.target),
                "expires_in_s": .number(max(0, (proposal.expires - now).rounded())), "approve": .string("\(parts.approveCommand) \(proposal.id)"),
            ])
        }
        let failing = core.monitor.providers.values.filter { $0.state == .failing || $0.state == .recovering }.map(\.provider).sorted()
        // `failed_over`: what the secrets say the agent changed; `failing`: what health says (a proposal may be open).
        return .object([
            "leader": .bool(leading), "paused": .bool(core.paused), "blind": .bool(core.monitor.isBlind), "providers": .object(providers),
            "open_proposals": .array(open), "failing": .array(failing.map { .string($0) }),
            "failed_over": .array(ownedProviders.sorted().map { .string($0) }), "recent_actions": .array(recentActions),
        ])
    }

    private func page(_ alert: Alert) {
        parts.log("page \(alert.resolve ? "resolve" : alert.severity.rawValue): \(alert.summary.split(separator: "\n").first ?? "")")
        let page = Page(alert)
        let pagers = parts.pagers, log = parts.log, metrics = parts.metrics, journal = parts.journal
        Task.detached {  // a pager that is down never blocks the agent
            _ = try? await journal.record("alert", detail: alert.summary)
            let failures = await pagers.send(page)
            for failure in failures { log("page not delivered by \(failure.pager): \(failure.error)") }
            metrics.paged(delivered: failures.isEmpty)
        }
    }

    private func newProposalID() async -> String {
        while true {
            let id = String(UInt32.random(in: 0x100000...0xFFFFFF), radix: 16)
            if core.proposals[id] == nil, (try? await parts.journal.proposal(id)) == nil { return id }
        }
    }
}
