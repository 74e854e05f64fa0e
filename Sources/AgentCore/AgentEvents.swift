import Health
import ProbeResults

/// What an action came to, as the core needs it (the executor's report, without I/O detail).
public struct ActionFinished: Sendable, Equatable {
    public var kind: ActionKind
    public var provider: String
    public var target: String
    /// The approved proposal it carried out, if any.
    public var proposal: String?
    public var outcome: ActionOutcome
    /// Owned keys a person changed since the agent wrote them: left as they are.
    public var leftToPeople: [String]
    public var changeRequestProblem: String?
    /// A restore written without a redeploy, with a gateway to verify it on once deployed: what to verify.
    public var awaiting: AwaitedDeployment?
    /// Whether the gateway served the change; nil when no gateway is configured to ask.
    public var verified: Bool?
    /// Finished after a restart (or a change of leader) from what the journal had open: paged
    /// whatever its outcome, since nobody saw it end.
    public var recovered: Bool
    /// What the action met that a person should know (a deleted latest version of the secret): paged once.
    public var warnings: [String]
    /// How the write was carried to production, and why (``DeployDecision``): said in its pages.
    public var deployDecision: String?

    public init(
        kind: ActionKind, provider: String, target: String, proposal: String? = nil, outcome: ActionOutcome, leftToPeople: [String] = [],
        changeRequestProblem: String? = nil, awaiting: AwaitedDeployment? = nil, verified: Bool? = nil, recovered: Bool = false,
        warnings: [String] = [], deployDecision: String? = nil
    ) {
        (self.kind, self.provider, self.target, self.proposal, self.outcome) = (kind, provider, target, proposal, outcome)
        (self.leftToPeople, self.changeRequestProblem, self.awaiting) = (leftToPeople, changeRequestProblem, awaiting)
        (self.verified, self.recovered, self.warnings, self.deployDecision) = (verified, recovered, warnings, deployDecision)
    }
}

/// The run loop's events: everything that happens to the agent goes in here, and what to do comes
/// out as commands. The loop holds no decision of its own.
extension AgentCore {
    public enum Event: Sendable {
        /// Time passed (the loop sends it at ``nextTick`` and after news): probes due now, proposals
        /// expired, the reads, settlements and next-deployment checks due again.
        case tick
        /// Whether this replica holds the Lease, and the pause the leader shares there.
        case leadership(Bool, leaderPaused: Bool?)
        case probed(endpoint: String, result: ProbeResult, startedAt: Double)
        /// What each target's secret says the agent has failed over, or why it could not be read.
        case ownershipRead([String: Result<[String], Custody.ReadFailure>])
        case finished(ActionFinished)
        /// What a check of the next deployment after a restore found.
        case deploymentChecked(target: String, watch: Int, NextDeploymentCheck)
        /// Settling a target again found nothing under way (`why` nil), or could not read its record.
        case settleUnreadable(target: String, why: String?)
        /// A person paused or resumed the agent.
        case paused(Bool)
        /// One reading of the gateway's traffic (``TrafficTrust``).
        case traffic(TrafficTrust.Reading)
        /// A fire drill of `target` ended at `unixTime` (calendar time), and what it came to.
        case drilled(target: String, succeeded: Bool, summary: String, unixTime: Double)
        /// When each target's last drill succeeded, as the journal remembers (at start).
        case drillHistory([String: Double])
    }

    /// Feeds one event at `now` (seconds since start); returns what to do.
    public mutating func handle(_ event: Event, at now: Double) -> [AgentCommand] {
        switch event {
        case .tick: return ticked(at: now)
        case .leadership(let leading, let leaderPaused): return leadership(leading, leaderPaused: leaderPaused, at: now)
        case .probed(let endpoint, let result, let startedAt): return probed(endpoint, result: result, startedAt: startedAt, at: now)
        case .ownershipRead(let found): return ownershipRead(found, at: now)
        case .traffic(let reading): return leaderOnly(observeTraffic(reading, at: now))
        case .finished(let finished): return self.finished(finished, at: now)
        case .deploymentChecked(let target, let watch, let check):
            guard let provider = watches.answered(target, watch: watch, check, at: now) else { return [] }
            let about = ["provider": provider, "target": target, "action": "restore"]
            if case .notYet = check { return [] }
            guard case .notVerified(let problem) = check else {
                return [.log(LogLine(.notice, "restore of \(provider) on \(target): verified live after the next deployment", about))]
            }
            return leaderOnly([
                .log(LogLine(.error, "restore of \(provider) on \(target): not verified: \(problem)", about)),
                .alert(
                    Alert(
                        dedupKey: "failover-agent/\(target)/\(provider)/action",
                        summary: "restore of \(provider) on \(target): the next deployment does not serve it: \(problem)",
                        severity: .critical)),
            ])
        case .settleUnreadable(let target, let why):
            custody.settleLater(target, failed: why != nil, at: now)
            return why.map {
                [.log(LogLine(.warning, "\(target): cannot read what is under way in its secret, retrying: \($0)", ["target": target]))]
            } ?? []
        case .drilled(let target, let succeeded, let summary, let unixTime):
            return drilled(target, succeeded: succeeded, summary: summary, at: unixTime)
        case .drillHistory(let successes):
            for (target, at) in successes where settings.drills[target] != nil {
                drillRecords[target, default: DrillRecord()].lastSuccess = at
            }
            return []
        case .paused(let paused):
            setPaused(paused)
            return [.log(LogLine(.notice, paused ? "paused: probing and paging, acting on nothing" : "resumed"))]
        }
    }

    /// When a ``Event/tick`` next has work, if no other event comes first: a probe's start, a
    /// proposal's expiry, a read or settlement retried, a next deployment checked. The loop sleeps until then.
    public var nextTick: Double {
        min(
            streams.nextStart, custody.nextDue, watches.nextDue,
            proposals.values.filter { $0.status == .open }.map(\.expires).min() ?? .infinity)
    }

    private mutating func ticked(at now: Double) -> [AgentCommand] {
        var commands: [AgentCommand] = []
        let due = streams.due(at: now, health: monitor.machines)
        if !due.isEmpty { commands.append(.probe(due)) }
        commands += leaderOnly(tick(at: now))
        if let targets = custody.dueReads(at: now) { commands.append(.readOwnership(targets)) }
        if custody.leading { commands += watches.due(at: now) }
        for target in custody.dueSettles(at: now) {
            if custody.leading { commands.append(.settle(target)) } else { custody.settleLater(target, failed: false, at: now) }
        }
        return commands
    }

    private mutating func leadership(_ leading: Bool, leaderPaused: Bool?, at now: Double) -> [AgentCommand] {
        var commands: [AgentCommand] = []
        if leading != custody.leading {
            custody.lead(leading)
            if leading {
                custody.tookTheLead()
                commands.append(.recoverJournal)
            }
        }
        // The leader shares its pause; a follower takes the leader's, so a new leader starts as paused as the last one was.
        let shared = leading ? paused : nil
        if shared != sharedPause {
            sharedPause = shared
            commands.append(.sharePause(shared))
        }
        if !leading, let leaderPaused, leaderPaused != paused {
            setPaused(leaderPaused)
            let line = leaderPaused ? "paused by the leader: acting on nothing, here or after taking the lead" : "resumed by the leader"
            commands.append(.log(LogLine(.notice, line)))
        }
        return commands
    }

    private mutating func probed(_ endpoint: String, result: ProbeResult, startedAt: Double, at now: Double) -> [AgentCommand] {
        guard let provider = streams.streams[endpoint]?.subject else { return [] }
        let observation = Observation(
            provider: provider, resultClass: result.resultClass, ttfbMs: result.status == nil ? nil : result.ttfbMs, startedAt: startedAt,
            completedAt: now)
        let before = monitor.state(of: provider)
        let wasBlind = monitor.isBlind
        var commands = leaderOnly(observe(observation))
        streams.completed(endpoint, result: result, at: now, health: monitor.machines)
        if let wait = result.retryAfter {
            streams.hold(endpoint, for: wait, at: now)
            commands.append(
                .log(
                    LogLine(
                        .notice, "\(endpoint) answered 429: its probes wait \(Int(min(wait, ProbeCap.longestHold).rounded())) s",
                        ["provider": provider])))
        }
        if let after = monitor.state(of: provider), after != before {
            let line = "\(provider): \(before?.rawValue ?? "?") → \(after.rawValue) (last probe \(result.resultClass.rawValue))"
            commands.insert(.log(LogLine(after == .healthy || after == .suspect ? .info : .notice, line, ["provider": provider])), at: 0)
        }
        // A subject newly seen healthy: each target is settled again, so a change request nothing
        // follows any more (a restore's, or a failover's stopped before its write) is closed.
        let proven = monitor.provenHealthy
        if custody.leading, !proven.subtracting(healthy).isEmpty { custody.settleSoon(settings.targets.map(\.name), at: now) }
        healthy = proven
        if monitor.isBlind != wasBlind {
            commands.insert(
                .log(
                    LogLine(
                        monitor.isBlind ? .warning : .notice,
                        monitor.isBlind ? "blind: most providers fail without an answer" : "no longer blind")), at: 0)
        }
        return commands
    }

    private mutating func ownershipRead(_ found: [String: Result<[String], Custody.ReadFailure>], at now: Double) -> [AgentCommand] {
        var commands: [AgentCommand] = []
        let (owned, failures) = custody.read(found, at: now)
        for (target, providers) in owned {
            let line =
                "\(target): its secret records \(providers.joined(separator: ", ")) as failed over by this agent; restoring once healthy"
            commands.append(.log(LogLine(.notice, line, ["target": target])))
            for case .state(let provider, let from, let to, _) in resumeFailedOver(providers, at: now) {
                commands.append(
                    .log(
                        LogLine(
                            .notice, "\(provider): \(from.rawValue) → \(to.rawValue) (failed over before the restart)",
                            ["provider": provider])))
            }
            // Failed over, but no probe watches it any more (the probes changed): it would never be restored.
            for subject in providers where !monitor.watches(subject) {
                commands.append(
                    .alert(
                        Alert(
                            dedupKey: "failover-agent/\(target)/\(subject)/unwatched",
                            summary:
                                "\(target): \(subject) is failed over by this agent, but no probe watches it now, so it is never restored "
                                + "on its own: add its probe back, or restore it with `failover-agent restore --provider \(subject)`",
                            severity: .warning)))
            }
        }
        for (target, failure, retry) in failures {
            commands.append(
                .log(
                    LogLine(
                        .warning, "\(target): cannot read what the agent owns in its secret, retrying in \(Int(retry)) s: \(failure)",
                        ["target": target])))
        }
        if custody.unread.isEmpty { commands += leaderOnly(catchUp(owned: custody.owned, at: now)) }
        return commands
    }

    private mutating func finished(_ done: ActionFinished, at now: Double) -> [AgentCommand] {
        let (kind, provider, target) = (done.kind, done.provider, done.target)
        var commands: [AgentCommand] = []
        if let proposal = done.proposal {
            let carriedOut: Bool
            if case .nothingToDo = done.outcome { carriedOut = true } else { carriedOut = done.outcome.changedTheSecret }
            commands.append(.markProposal(proposal, carriedOut ? .executed : .failed))
            // The person's part is done: the proposal's page closes (the action's own pages say how it went).
            commands.append(
                .alert(
                    Alert(
                        dedupKey: "failover-agent/proposal/\(proposal)",
                        summary: "Proposal \(proposal) (\(kind.rawValue) of \(provider) on \(target)) was approved and carried out: "
                            + done.outcome.summary, severity: .info, resolve: true)))
        }
        if case .failed = done.outcome {
            custody.settleLater(target, failed: true, at: now)
        } else {
            custody.settleLater(target, failed: false, at: now)
        }
        switch done.outcome {
        case .deployed, .deployFailed, .written, .notVerified: custody.acted(kind, provider: provider, target: target)
        default: break
        }
        let level: LogLine.Level
        switch done.outcome {
        case .refused, .failed, .deployFailed, .notVerified: level = .error
        case .interrupted, .abandoned: level = .warning
        default: level = .notice
        }
        var about = ["provider": provider, "target": target, "action": kind.rawValue]
        about["proposal"] = done.proposal
        var summary = done.outcome.summary
        if done.outcome == .deployed {
            summary += done.verified == true ? "; verified live on the gateway" : "; unverified: no gateway section for this target"
        }
        commands.append(.log(LogLine(level, "\(kind.rawValue) of \(provider) on \(target): \(summary)", about)))
        let action = "failover-agent/\(target)/\(provider)/action"
        if done.recovered {
            commands.append(
                .alert(
                    Alert(
                        dedupKey: "failover-agent/\(target)/\(provider)/recovered",
                        summary: "\(kind.rawValue) of \(provider) on \(target), interrupted by a restart, was finished: \(summary)",
                        severity: level == .error ? .critical : .info)))
        }
        if !done.leftToPeople.isEmpty {
            commands.append(
                .alert(
                    Alert(
                        dedupKey: "failover-agent/\(target)/\(provider)/edited",
                        summary:
                            "\(kind.rawValue) of \(provider) on \(target): \(done.leftToPeople.joined(separator: ", ")) changed by a "
                            + "person since the agent wrote it; left as it is and no longer the agent's. Check it is still right.",
                        severity: .warning)))
        }
        if !done.warnings.isEmpty {
            commands.append(
                .alert(
                    Alert(
                        dedupKey: "failover-agent/\(target)/\(provider)/warnings",
                        summary: "\(kind.rawValue) of \(provider) on \(target): " + done.warnings.joined(separator: "; "),
                        severity: .warning)))
        }
        let deploy = done.deployDecision.map { " (deploy: \($0))" } ?? ""
        switch done.outcome {
        case .refused(let why), .failed(let why):
            commands.append(
                .alert(
                    Alert(
                        dedupKey: action, summary: "\(kind.rawValue) of \(provider) on \(target) did not happen: \(why)\(deploy)",
                        severity: .critical)))
        case .interrupted(let why):
            commands.append(
                .alert(
                    Alert(
                        dedupKey: action,
                        summary: "\(kind.rawValue) of \(provider) on \(target): the secret was written and its deploy job retried; \(why)",
                        severity: .warning)))
        case .deployFailed(let status):
            commands.append(
                .alert(
                    Alert(
                        dedupKey: action, summary: "\(kind.rawValue) of \(provider) on \(target): the deploy failed: \(status)\(deploy)",
                        severity: .critical)))
        case .notVerified(let why):
            commands.append(
                .alert(
                    Alert(
                        dedupKey: action,
                        summary: "\(kind.rawValue) of \(provider) on \(target) deployed but not verified: \(why)\(deploy)",
                        severity: .critical)))
        default: break
        }
        if let awaited = done.awaiting {
            watches.begin(target, provider: provider, awaited, at: now)
        } else if done.outcome.changedTheSecret {
            watches.end(target)
        }
        if let problem = done.changeRequestProblem {
            commands.append(
                .alert(
                    Alert(
                        dedupKey: "failover-agent/\(target)/\(provider)/change-request",
                        summary: "\(kind.rawValue) of \(provider) on \(target) went ahead without its change request: \(problem)",
                        severity: .warning)))
        }
        return commands
    }

    /// Pages, actions and proposals are the leader's; a follower only says what it would have done.
    private func leaderOnly(_ commands: [AgentCommand]) -> [AgentCommand] {
        guard !custody.leading else { return commands }
        return commands.map { command in
            switch command {
            case .alert(let alert): .log(LogLine(.info, "not the leader, not paging: \(alert.summary.split(separator: "\n").first ?? "")"))
            case .execute(let kind, let provider, let target, _), .propose(let kind, let provider, let target):
                .log(
                    LogLine(
                        .info, "not the leader: the \(kind.rawValue) of \(provider) on \(target) is the leader's to do",
                        ["provider": provider, "target": target]))
            default: command
            }
        }
    }
}
