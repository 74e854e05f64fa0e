import Actions
import AgentCore
import Lifecycle

/// Plans a proposal's targets as the write would (the unhealthy avoided, the replacements
/// pre-flighted) without acting, and plans them again when it is approved: reads only.
struct ProposalPlanning: Sendable {
    let executors: [String: TargetExecutor]

    enum Planned: Sendable {
        case plans([ProposedPlan], diff: String, sha: String)
        /// `target` cannot be planned (the proposal is not made; paged).
        case failed(target: String, why: String)
        /// No target has anything to do.
        case nothing(String)
    }

    func plan(_ kind: ActionKind, provider: String, targets: [String], avoid: Set<String>) async -> Planned {
        var plans: [ProposedPlan] = []
        var diffs: [String] = []
        var nothing: [String] = []
        for target in targets {
            guard let executor = executors[target] else { continue }
            let check = await executor.perform(
                kind, provider: provider, apply: false, avoid: avoid, terms: ActionTerms(preflightWhenPlanning: true))
            if case .nothingToDo(let why) = check.outcome {
                nothing.append(why)
                continue
            }
            guard check.outcome == .planned, let plan = check.plan, let intended = check.intended, let version = check.secretVersion,
                kind == .restore || check.deploySHA != nil
            else { return .failed(target: target, why: check.outcome.summary) }
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
        guard !plans.isEmpty else { return .nothing("nothing to do: " + nothing.joined(separator: "; ")) }
        return .plans(plans, diff: diffs.joined(separator: "\n"), sha: plans.compactMap(\.pinned.sha).first ?? "")
    }

    /// What changed, per target, since `approved` was proposed (provider state, secret version,
    /// pipeline SHA, the replacements' health and pre-flight); empty when nothing did. nil: a
    /// target is unknown.
    func changes(since approved: [ProposedPlan], _ kind: ActionKind, provider: String, avoid: Set<String>) async -> [String]? {
        var changes: [String] = []
        for earlier in approved {
            guard let executor = executors[earlier.target] else { return nil }
            let check = await executor.perform(
                kind, provider: provider, apply: false, avoid: avoid, terms: ActionTerms(preflightWhenPlanning: true))
            guard check.outcome == .planned, let intended = check.intended, let version = check.secretVersion else {
                changes.append("\(earlier.target): \(check.outcome.summary)")
                continue
            }
            let now = ProposedPlan(
                target: earlier.target, pinned: PinnedPlan(intended: intended, secretVersion: version, sha: check.deploySHA),
                override: check.plan?.override.json ?? intended)
            if let changed = now.changes(since: earlier) { changes.append(changed) }
        }
        return changes
    }
}
