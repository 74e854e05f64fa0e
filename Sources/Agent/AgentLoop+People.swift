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

    /// Plans without acting, records a proposal and pages its approve command.
    func propose(_ kind: ActionKind, provider: String, target: String) async {
        guard let executor = parts.runner.executors[target] else { return }
        let check = await executor.perform(kind, provider: provider, apply: false)
        guard check.outcome == .planned, let plan = check.plan, let sha = check.deploySHA ?? (kind == .restore ? "" : nil),
            let version = check.secretVersion
        else {
            await execute(core.proposalFailed(kind: kind, provider: provider, target: target, why: check.outcome.summary))
            return
        }
        let id = await newProposalID()
        let proposal = Journal.ProposalRecord(
            id: id, created: Date().timeIntervalSince1970, expires: Date().timeIntervalSince1970 + core.settings.proposalLifetime,
            action: kind.rawValue, target: target, provider: provider, plan: plan.override.json, sha: sha, secretVersion: version)
        do { try await parts.journal.save(proposal) } catch {
            parts.logger.error("cannot journal proposal \(id): \(error)")
            return
        }
        parts.metrics.proposed(kind.rawValue, target: target)
        await execute(
            core.proposed(
                id: id, kind: kind, provider: provider, target: target, sha: sha, diff: plan.diff(target: target),
                approveCommand: parts.approveCommand, at: now))
    }

    /// A person approved proposal `id`: re-validate (provider state, secret version, pipeline SHA)
    /// and act, or re-propose when the plan changed.
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
        guard case .execute(let kind, let provider, let target, _) = command, let stored = try? await parts.journal.proposal(id),
            (try? await parts.journal.transition(id, from: .open, to: .approved)) == true
        else { return .refused("proposal \(id) is not open in the journal") }
        _ = try? await parts.journal.record("approval", target: target, provider: provider, detail: "proposal \(id)")
        guard let executor = parts.runner.executors[target] else { return .refused("no target \(target)") }
        let check = await executor.perform(kind, provider: provider, apply: false)
        let unchanged =
            check.plan?.override.json == stored.plan && (check.deploySHA ?? "") == stored.sha && check.secretVersion == stored.secretVersion
        let (commands, answer, accepted) = core.revalidated(id, kind: kind, provider: provider, target: target, unchanged: unchanged)
        await execute(commands)
        return accepted ? .accepted(answer) : .refused(answer)
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
