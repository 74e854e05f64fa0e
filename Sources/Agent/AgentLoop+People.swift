import Actions
import AgentCore
import ControlAPI
import Foundation
import Journal

/// What people do to the running agent (approve, reject, pause) and the proposals they answer.
/// The core decides; this carries out the planning and the journal around it.
extension AgentLoop {
    public enum Answer: Sendable, Equatable {
        case accepted(String)
        case refused(String)
    }

    /// Plans each target of `unit` as the write would (the unhealthy avoided, the replacements
    /// pre-flighted) without acting, then records one proposal and pages its approve command with
    /// every target's plan. nil when a target cannot be planned (paged) or none has anything to do.
    private func plan(_ kind: ActionKind, provider: String, unit: String) async -> (plans: [ProposedPlan], diff: String, sha: String)? {
        var plans: [ProposedPlan] = []
        var diffs: [String] = []
        var nothing: [String] = []
        for target in members(of: unit) {
            guard let executor = parts.runner.executors[target] else { continue }
            let check = await executor.perform(
                kind, provider: provider, apply: false, avoid: core.monitor.unhealthy, terms: ActionTerms(preflightWhenPlanning: true))
            if case .nothingToDo(let why) = check.outcome {
                nothing.append(why)
                continue
            }
            guard check.outcome == .planned, let plan = check.plan, let intended = check.intended, let version = check.secretVersion,
                kind == .restore || check.deploySHA != nil
            else {
                await execute(core.proposalFailed(kind: kind, provider: provider, target: target, why: check.outcome.summary))
                return nil
            }
            plans.append(
                ProposedPlan(
                    target: target, pinned: PinnedPlan(intended: intended, secretVersion: version, sha: check.deploySHA),
                    override: plan.override.json))
            let preflight = check.preflight.map { "\($0.model) \($0.resultClass)" }.joined(separator: ", ")
            let unready = check.unready.map { "\($0.name.rawValue): \($0.reason)" }.joined(separator: "; ")
            diffs.append(
                plan.diff(target: target) + (preflight.isEmpty ? "" : "\npre-flight probes: \(preflight)")
                    + check.warnings.map { "\n! \($0)" }.joined()
                    + (unready.isEmpty ? "" : "\nNOT READY (an approval writes nothing until this is granted): \(unready)"))
        }
        guard !plans.isEmpty else {
            await execute(
                core.proposalFailed(kind: kind, provider: provider, target: unit, why: "nothing to do: " + nothing.joined(separator: "; ")))
            return nil
        }
        return (plans, diffs.joined(separator: "\n"), plans.compactMap(\.pinned.sha).first ?? "")
    }

    /// Plans without acting, records a proposal and pages its approve command.
    func propose(_ kind: ActionKind, provider: String, target unit: String) async {
        guard let (plans, diff, sha) = await plan(kind, provider: provider, unit: unit) else { return }
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
                id: id, kind: kind, provider: provider, target: unit, sha: sha, diff: diff + replaces,
                approveCommand: parts.approveCommand,
                at: now))
    }

    /// A person approved proposal `id`: plan every target again as the proposal was planned
    /// (provider state, secret version, pipeline SHA, the replacements' health and pre-flight) and
    /// write exactly what was approved; when anything changed, write nothing and propose anew,
    /// saying what changed.
    public func approve(_ id: String) async -> Answer {
        guard parts.runner.isLeader() else {
            return .refused(
                "this replica does not hold the Lease: approve on the leader (`leader: true` in its /status, `leader: yes` in "
                    + "`failover-agent status`)"
            )
        }
        let command: AgentCommand
        do { command = try core.approve(id, at: now) } catch {
            _ = try? await parts.journal.transition(id, from: .open, to: error == .paused ? .open : .expired)
            return .refused(error.description)
        }
        guard case .execute(let kind, let provider, let unit, _) = command, let stored = try? await parts.journal.proposal(id),
            (try? await parts.journal.transition(id, from: .open, to: .approved)) == true
        else { return .refused("proposal \(id) is not open in the journal") }
        _ = try? await parts.journal.record("approval", target: unit, provider: provider, detail: "proposal \(id)")
        let approved =
            ProposedPlan.parse(stored.plan)
            ?? [
                ProposedPlan(
                    target: unit, pinned: PinnedPlan(intended: stored.plan, secretVersion: stored.secretVersion, sha: stored.sha),
                    override: stored.plan)
            ]
        var changes: [String] = []
        for earlier in approved {
            guard let executor = parts.runner.executors[earlier.target] else { return .refused("no target \(earlier.target)") }
            let check = await executor.perform(
                kind, provider: provider, apply: false, avoid: core.monitor.unhealthy, terms: ActionTerms(preflightWhenPlanning: true))
            guard check.outcome == .planned, let intended = check.intended, let version = check.secretVersion else {
                changes.append("\(earlier.target): \(check.outcome.summary)")
                continue
            }
            let now = ProposedPlan(
                target: earlier.target, pinned: PinnedPlan(intended: intended, secretVersion: version, sha: check.deploySHA),
                override: check.plan?.override.json ?? intended)
            if let changed = now.changes(since: earlier) { changes.append(changed) }
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
