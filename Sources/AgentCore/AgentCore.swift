import Health
import ProbeResults

/// The agent's decisions, pure: probe results, approvals, rejections and time go in; commands
/// come out. It applies each target's mode, the restore mode, the kill switch (pause) and the cap
/// on failovers per hour, and owns the lifecycle of proposals.
public struct AgentCore: Sendable {
    public struct Settings: Sendable {
        /// Target name → how its failovers are carried out.
        public var targets: [(name: String, mode: ActionMode)]
        /// Restores only undo the agent's own change, so they are performed by default.
        public var restoreMode: ActionMode
        public var proposalLifetime: Double
        public var maxFailoversPerHour: Int
        /// Group name → its targets: one command (and one proposal) for all of them, named by the group.
        public var groups: [String: [String]]
        /// Subject → why its failover would write nothing (``Selection/Planner/whyFailoverIsEmpty(_:)``):
        /// paged once when it trips, never proposed, performed or restored.
        public var emptyFailovers: [String: String]
        /// With a traffic source: a reading whose newest sample is older than this is not evidence,
        /// and a subject's traffic evidence this old no longer counts (the policy's `trafficStaleAfter`).
        public var trafficStaleAfter: Double?
        /// The traffic source's counting window (its `interval`): a reading's counts may have
        /// happened anywhere in the window that ended at its newest sample.
        public var trafficWindow: Double?
        /// Target → its fire drills (`targets[].drill`).
        public var drills: [String: DrillSettings] = [:]

        public init(
            targets: [(name: String, mode: ActionMode)], restoreMode: ActionMode = .perform, proposalLifetime: Double = 900,
            maxFailoversPerHour: Int = 3, groups: [String: [String]] = [:], emptyFailovers: [String: String] = [:],
            trafficStaleAfter: Double? = nil, trafficWindow: Double? = nil
        ) {
            self.trafficStaleAfter = trafficStaleAfter
            self.trafficWindow = trafficWindow
            self.targets = targets
            self.groups = groups
            self.emptyFailovers = emptyFailovers
            self.restoreMode = restoreMode
            self.proposalLifetime = proposalLifetime
            self.maxFailoversPerHour = maxFailoversPerHour
        }
    }

    public struct Proposal: Sendable, Equatable {
        public enum Status: String, Sendable { case open, approved, rejected, expired }
        public var id: String
        public var kind: ActionKind
        public var provider: String
        public var target: String
        public var expires: Double
        public var status: Status
    }

    public let settings: Settings
    public private(set) var monitor: HealthMonitor
    public private(set) var paused = false
    public private(set) var proposals: [String: Proposal] = [:]
    /// Times of failovers started, for the hourly cap.
    public private(set) var failoverTimes: [Double] = []
    /// The health decisions behind the last ``observe(_:)`` (state changes included), for replay's event lines.
    public private(set) var lastDecisions: [HealthDecision] = []
    /// When each endpoint is probed next (the run loop's and replay's).
    public internal(set) var streams: ProbeStreams
    /// Leadership, ownership records read, and the retries of reads and settlements.
    public internal(set) var custody: Custody
    /// The subjects this agent has seen healthy (``HealthMonitor/provenHealthy``): a change
    /// request nothing follows any more is closed only for one of them.
    public internal(set) var healthy: Set<String> = []
    /// Subjects failing now whose failover would write nothing: paged once, their restore silent.
    public private(set) var cannotFailOver: Set<String> = []
    /// Subjects paged as recovering past `max_healthy` without a restore: resolved at their restore.
    public private(set) var overdueRestores: Set<String> = []
    /// Whether the gateway's traffic is evidence now; nil without a traffic source.
    public private(set) var traffic: TrafficTrust?
    var sharedPause: Bool?? = .none
    /// Restores waiting for their target's next deployment, and when each is checked next.
    public internal(set) var watches = DeploymentWatches()
    /// Each drilled target's drills: the last success, the last attempt, one under way.
    public internal(set) var drillRecords: [String: DrillRecord] = [:]

    /// `endpoints`: every probe's name and the subject (``Subject``) its results judge;
    /// `stretch`: seconds added to an endpoint's steady interval to keep within the probe budget.
    public init(settings: Settings, endpoints: [(name: String, subject: String)], policy: HealthPolicy, stretch: [String: Double] = [:]) {
        var policy = policy
        if let staleAfter = settings.trafficStaleAfter { policy.trafficStaleAfter = staleAfter }
        if let window = settings.trafficWindow { policy.trafficWindow = window }
        self.settings = settings
        monitor = HealthMonitor(subjects: endpoints.map(\.subject), policy: policy)
        streams = ProbeStreams(endpoints: endpoints, policy: policy, stretch: stretch)
        custody = Custody(targets: settings.targets.map(\.name))
        traffic = settings.trafficStaleAfter.map { TrafficTrust(staleAfter: $0, policy: policy) }
    }

    /// One probe per provider, named for it.
    public init(settings: Settings, providers: [String], policy: HealthPolicy) {
        self.init(settings: settings, endpoints: providers.map { ($0, $0) }, policy: policy)
    }

    /// Feeds one probe result; returns what to do about the health decisions it led to.
    public mutating func observe(_ observation: Observation) -> [AgentCommand] {
        lastDecisions = monitor.observe(observation)
        return commands(for: lastDecisions)
    }

    /// Feeds one reading of the gateway's traffic: evidence for the health machine when
    /// ``TrafficTrust`` finds it trustworthy; else paged once, and every subject judged on probes alone.
    mutating func observeTraffic(_ reading: TrafficTrust.Reading, at now: Double) -> [AgentCommand] {
        guard var trust = traffic else { return [] }
        let wasDistrusted = trust.distrust != nil
        let verdict = trust.judge(reading, at: now)
        traffic = trust
        let key = "failover-agent/traffic"
        switch verdict {
        case .evidence(let windows, let end):
            lastDecisions = monitor.observeTraffic(windows, window: monitor.policy.trafficWindow, endingAt: end, at: now)
            let resolved: [AgentCommand] =
                wasDistrusted
                ? [.alert(Alert(dedupKey: key, summary: "The gateway's traffic is evidence again", severity: .info, resolve: true))] : []
            return resolved + commands(for: lastDecisions)
        case .distrusted(let why, let changed):
            lastDecisions = []
            guard changed else { return [] }
            monitor.distrustTraffic()
            return [
                .alert(
                    Alert(
                        dedupKey: key,
                        summary: "Traffic evidence distrusted: \(why); judging on probes alone (nothing is acted on that they do not show)",
                        severity: .warning))
            ]
        }
    }

    private mutating func commands(for decisions: [HealthDecision]) -> [AgentCommand] {
        var commands: [AgentCommand] = []
        for decision in decisions {
            switch decision {
            case .failover(let provider, let at): commands += act(.failover, provider: provider, at: at)
            case .restore(let provider, let at):
                if overdueRestores.remove(provider) != nil {
                    commands.append(
                        .alert(
                            Alert(
                                dedupKey: "failover-agent/restore-overdue/\(provider)", summary: "\(provider) is restored",
                                severity: .info, resolve: true)))
                }
                commands += act(.restore, provider: provider, at: at)
            case .blind(let providers, _):
                commands.append(
                    .alert(
                        Alert(
                            dedupKey: "failover-agent/blind",
                            summary:
                                "Probes of \(providers.joined(separator: ", ")) fail without an answer at once: the agent's own network "
                                + "is suspect; it acts on nothing until this clears",
                            severity: .critical)))
            case .blindCleared:
                commands.append(
                    .alert(Alert(dedupKey: "failover-agent/blind", summary: "Probes answer again", severity: .info, resolve: true)))
            case .probeBroken(let provider, let resultClass, _):
                let what =
                    resultClass == .auth
                    ? "our credentials for \(provider) are refused (auth)" : "the \(provider) probe is rejected as a bad request"
                commands.append(
                    .alert(
                        Alert(
                            dedupKey: "failover-agent/probe-broken/\(provider)",
                            summary: "Probe broken: \(what); this never fails \(provider) over. Fix the probe or its credentials.",
                            severity: .warning)))
            case .probeFixed(let provider, _):
                commands.append(
                    .alert(
                        Alert(
                            dedupKey: "failover-agent/probe-broken/\(provider)", summary: "The \(provider) probe works again",
                            severity: .info, resolve: true)))
            case .restoreOverdue(let provider, let since, let at):
                overdueRestores.insert(provider)
                commands.append(
                    .alert(
                        Alert(
                            dedupKey: "failover-agent/restore-overdue/\(provider)",
                            summary:
                                "\(provider) has been recovering for \(Int(at - since)) s (max_healthy) and its probes still do not show "
                                + "a failure rate below restore_error_rate: it stays failed over; look at its probes, restore by hand "
                                + "(`failover-agent restore`) if you judge it healthy",
                            severity: .warning)))
            case .state: break
            }
        }
        return commands
    }

    private mutating func act(_ kind: ActionKind, provider: String, at now: Double) -> [AgentCommand] {
        let incident = "failover-agent/\(provider)"
        if let why = settings.emptyFailovers[provider] {
            // Nothing to write: a person is told once, and nothing is proposed, performed or restored.
            if kind == .restore {
                guard cannotFailOver.remove(provider) != nil else { return [] }
                return [.alert(Alert(dedupKey: incident, summary: "\(provider) is healthy again", severity: .info, resolve: true))]
            }
            guard cannotFailOver.insert(provider).inserted else { return [] }
            return [
                .alert(
                    Alert(
                        dedupKey: incident, summary: "\(provider) is failing, but cannot fail over: \(why); nothing is written",
                        severity: .critical))
            ]
        }
        if paused {
            return [
                .alert(
                    Alert(
                        dedupKey: incident,
                        summary: "\(provider) would be \(kind == .failover ? "failed over" : "restored") now, but the agent is paused",
                        severity: kind == .failover ? .critical : .warning))
            ]
        }
        if kind == .failover {
            failoverTimes.removeAll { $0 <= now - 3600 }
            guard failoverTimes.count < settings.maxFailoversPerHour else {
                return [
                    .alert(
                        Alert(
                            dedupKey: incident,
                            summary:
                                "\(provider) is failing, but \(failoverTimes.count) failovers in the last hour reached the cap "
                                + "(\(settings.maxFailoversPerHour)); acting on nothing",
                            severity: .critical))
                ]
            }
            failoverTimes.append(now)
        }
        // Proposals for the opposite action are moot now.
        for (id, proposal) in proposals where proposal.provider == provider && proposal.status == .open {
            proposals[id]?.status = .expired
        }
        var commands: [AgentCommand] = [
            .alert(
                Alert(
                    dedupKey: incident,
                    summary: kind == .failover ? "\(provider) is failing: failing it over" : "\(provider) is healthy again: restoring",
                    severity: kind == .failover ? .critical : .info, resolve: kind == .restore))
        ]
        var grouped: Set<String> = []
        for target in settings.targets {
            let mode = kind == .restore ? settings.restoreMode : target.mode
            // A group's targets are one incident: one command, named by the group.
            let group = settings.groups.first { $0.value.contains(target.name) }?.key
            if let group, !grouped.insert(group).inserted { continue }
            let name = group ?? target.name
            commands.append(
                mode == .perform
                    ? .execute(kind, provider: provider, target: name, proposal: nil)
                    : .propose(kind, provider: provider, target: name))
        }
        return commands
    }

    /// The run loop recorded and paged a proposal for a `propose` command.
    public mutating func opened(id: String, kind: ActionKind, provider: String, target: String, at now: Double) {
        proposals[id] = Proposal(
            id: id, kind: kind, provider: provider, target: target, expires: now + settings.proposalLifetime, status: .open)
    }

    /// A person approved: execute, if the proposal is open, unexpired, and still right for the
    /// subject's health (failing or recovering for a failover, healthy for a restore).
    public mutating func approve(_ id: String, at now: Double) throws(ProposalRefusal) -> AgentCommand {
        let proposal = try decidable(id, at: now)
        if paused { throw .paused }
        if monitor.isBlind { throw .blind }
        let state = monitor.state(of: proposal.provider)
        switch proposal.kind {
        case .failover where !monitor.isDown(proposal.provider):
            // Recovering still counts: until it is restored, a brownout may flip failing ↔ recovering.
            proposals[id]?.status = .expired
            throw .stale(id, why: "\(proposal.provider) is \(state?.rawValue ?? "unknown"), not failing")
        case .restore where state != .healthy:
            proposals[id]?.status = .expired
            throw .stale(id, why: "\(proposal.provider) is \(state?.rawValue ?? "unknown"), not healthy")
        default: break
        }
        proposals[id]?.status = .approved
        return .execute(proposal.kind, provider: proposal.provider, target: proposal.target, proposal: id)
    }

    public mutating func reject(_ id: String, at now: Double) throws(ProposalRefusal) {
        _ = try decidable(id, at: now)
        proposals[id]?.status = .rejected
    }

    /// Expires proposals past their lifetime, with a page for each.
    public mutating func tick(at now: Double) -> [AgentCommand] {
        var commands: [AgentCommand] = []
        for (id, proposal) in proposals.sorted(by: { $0.key < $1.key }) where proposal.status == .open && proposal.expires <= now {
            proposals[id]?.status = .expired
            commands.append(
                .alert(
                    Alert(
                        dedupKey: "failover-agent/proposal/\(id)",
                        summary:
                            "Proposal \(id) (\(proposal.kind.rawValue) of \(proposal.provider) on \(proposal.target)) expired unapproved",
                        severity: .warning)))
        }
        return commands
    }

    /// After a restart: these subjects are failed over on some target (per the secrets' ownership
    /// records), so they start `failing` and are restored once healthy, never failed over again.
    public mutating func resumeFailedOver(_ providers: [String], at now: Double) -> [HealthDecision] {
        providers.flatMap { monitor.resumeFailedOver($0, at: now) }
    }

    /// On taking the lead: subjects failed over now but on no target (the failover was decided
    /// while another replica led, or it was lost), or on only some targets of a group (the group's
    /// action was cut short by a crash), are failed over now. A model is covered by its provider's
    /// failover.
    public mutating func catchUp(owned: Set<String>, at now: Double) -> [AgentCommand] {
        func covers(_ owned: Set<String>, _ subject: String) -> Bool {
            owned.contains(subject) || owned.contains(Subject.provider(subject))
        }
        let ownedBy = custody.ownedBy
        let groups = settings.groups
        return monitor.failedOverSubjects.filter { monitor.state(of: $0) == .failing }
            .filter { subject in
                !covers(owned, subject)
                    || groups.values.contains { members in
                        let done = members.filter { covers(ownedBy[$0] ?? [], subject) }.count
                        return done > 0 && done < members.count
                    }
            }
            .flatMap { act(.failover, provider: $0, at: now) }
    }

    /// A pre-flight probe of endpoint `name` may start at the returned time, within the probe cap.
    public mutating func reserveProbe(_ name: String, at now: Double) -> Double { streams.reserve(name, at: now) }

    /// The kill switch: keep probing and paging, act on nothing.
    public mutating func setPaused(_ paused: Bool) { self.paused = paused }

    private mutating func decidable(_ id: String, at now: Double) throws(ProposalRefusal) -> Proposal {
        guard let proposal = proposals[id] else { throw .unknown(id) }
        guard proposal.status == .open else { throw .alreadyDecided(id, status: proposal.status.rawValue) }
        guard proposal.expires > now else {
            proposals[id]?.status = .expired
            throw .expired(id)
        }
        return proposal
    }
}
