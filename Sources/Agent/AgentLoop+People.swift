import Actions
import AgentCore
import Journal

/// What people do to the running agent (approve, reject, pause) and the proposals they answer.
/// The core decides; ``ProposalPlanning`` plans; this carries it out and journals it.
extension AgentLoop {
    public enum Answer: Sendable, Equatable { case accepted(String), refused(String) }

    private var planning: ProposalPlanning { ProposalPlanning(executors: parts.runner.executors) }

    /// Plans every target of `unit` without acting, records one proposal and pages its approve
    /// command with every target's plan; a target that cannot be planned is paged instead.
    func propose(_ kind: ActionKind, provider: String, target unit: String) async {
        let (plans, diff, sha): ([ProposedPlan], String, String)
        switch await planning.plan(kind, provider: provider, targets: members(of: unit), avoid: core.monitor.unhealthy) {
        case .failed(let target, let why):
            return await execute(core.proposalFailed(kind: kind, provider: provider, target: target, why: why))
        case .nothing(let why): return await execute(core.proposalFailed(kind: kind, provider: provider, target: unit, why: why))
        case .plans(let planned, let text, let pipeline): (plans, diff, sha) = (planned, text, pipeline)
        }
        let id = await newProposalID()
        let proposal = Journal.ProposalRecord(
            id: id, created: parts.clock.unixTime, expires: parts.clock.unixTime + core.settings.proposalLifetime,
            action: kind.rawValue, target: unit, provider: provider, plan: ProposedPlan.journaled(plans), sha: sha,
            secretVersion: plans[0].pinned.secretVersion)
        do { try await parts.journal.save(proposal) } catch {
            parts.logger.error("cannot journal proposal \(id): \(error)")
            return
        }
        parts.metrics.proposed(kind.rawValue, target: unit)
        let replaces = superseded.removeValue(forKey: unit).map { "\nreplaces \($0)" } ?? ""
        await execute(
            core.proposed(
                id: id, kind: kind, provider: provider, target: unit, sha: sha, diff: diff + replaces, approveCommand: parts.approveCommand,
                at: now))
    }

    /// A person approved proposal `id`: plan every target again as the proposal was planned and
    /// write exactly what was approved; when anything changed, write nothing and propose anew,
    /// saying what changed.
    public func approve(_ id: String) async -> Answer {
        guard parts.runner.isLeader() else {
            return .refused(
                "this replica does not hold the Lease: approve on the leader (`leader: true` in its /status, `leader: yes` in "
                    + "`failover-agent status`)")
        }
        let command: AgentCommand
        do { command = try core.approve(id, at: now) } catch {
            _ = try? await parts.journal.transition(id, from: .open, to: error == .paused || error == .blind ? .open : .expired)
            return .refused(error.description)
        }
        guard case .execute(let kind, let provider, let unit, _) = command, let stored = try? await parts.journal.proposal(id),
            (try? await parts.journal.transition(id, from: .open, to: .approved)) == true
        else { return .refused("proposal \(id) is not open in the journal") }
        _ = try? await parts.journal.record("approval", target: unit, provider: provider, detail: "proposal \(id)")
        let pinned = PinnedPlan(intended: stored.plan, secretVersion: stored.secretVersion, sha: stored.sha)
        let approved = ProposedPlan.parse(stored.plan) ?? [ProposedPlan(target: unit, pinned: pinned, override: stored.plan)]
        guard let changes = await planning.changes(since: approved, kind, provider: provider, avoid: core.monitor.unhealthy) else {
            return .refused("proposal \(id) names a target this agent does not have")
        }
        if !changes.isEmpty { superseded[unit] = "proposal \(id), which changed before its approval: " + changes.joined(separator: "; ") }
        let (commands, answer, accepted) = core.revalidated(id, kind: kind, provider: provider, target: unit, unchanged: changes.isEmpty)
        if accepted { approvedPlans[id] = approved }
        await execute(commands)
        return accepted ? .accepted(answer) : .refused(answer + (changes.isEmpty ? "" : ": " + changes.joined(separator: "; ")))
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
        _ = try? await parts.journal.record(
            paused ? "pause" : "resume", detail: paused ? "acting on nothing until resumed" : "acting again")
        await deliver(.paused(paused))
    }

    private func newProposalID() async -> String {
        while true {
            let id = String(UInt32.random(in: 0x100000...0xFFFFFF), radix: 16)
            if core.proposals[id] == nil, (try? await parts.journal.proposal(id)) == nil { return id }
        }
    }
}
