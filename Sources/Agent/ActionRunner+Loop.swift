import Actions
import AgentCore
import ControlAPI
import Lifecycle

/// What the running agent asks of the runner beyond one action: a unit's (a group's or a
/// target's) action, the reads of what the secrets record, and watching the next deployment.
extension ActionRunner {
    /// An action settled from what a secret recorded as under way.
    public typealias Settled = (kind: ActionKind, provider: String, report: ActionReport)

    /// Carries out an action on each of `targets` in turn: one incident, so the first failover's
    /// change request is carried on in by the others, and only the last restore closes it. With
    /// `pins` (an approved proposal), each target writes exactly what was approved. `each` hears
    /// every target's report before the next starts.
    func run(
        _ kind: ActionKind, provider: String, targets: [String], pins: [ProposedPlan]?, proposal: String?, avoid: Set<String>,
        each: @Sendable (ActionReport) async -> Void
    ) async {
        var shared: Int?
        for (index, target) in targets.enumerated() {
            let terms = ActionTerms(
                pinned: pins?.first { $0.target == target }?.pinned, groupMembers: targets.filter { $0 != target },
                sharedChangeRequest: kind == .failover ? shared : nil, closesChangeRequest: index == targets.count - 1)
            let report = await run(kind, provider: provider, target: target, proposal: proposal, avoid: avoid, terms: terms)
            if kind == .failover, shared == nil { shared = report.changeRequest }
            await each(report)
        }
    }

    /// A fire drill of `target` (``TargetExecutor/drill(provider:act:)``), each half journaled as an
    /// action of its own, the result as a `drill` entry.
    public func drill(_ target: String, provider: String, avoid: Set<String>) async -> DrillReport {
        guard let executor = executors[target] else {
            return DrillReport(
                target: target, provider: provider, failover: ActionReport(target: target, outcome: .refused("no target \(target)")),
                restore: nil, secretBack: true, variableBack: true)
        }
        let report = await executor.drill(provider: provider) { kind, terms in
            await run(kind, provider: provider, target: target, avoid: avoid, terms: terms)
        }
        _ = try? await journal.record("drill", target: target, provider: provider, detail: report.summary)
        return report
    }

    /// Settles what `target`'s secret records as under way, then reads what it says the agent has
    /// failed over, so a restarted agent or a new leader still restores it: what was settled, and
    /// the read for the core.
    public func readOwnership(of target: String, healthy: Set<String>) async -> (settled: Settled?, then: AgentCore.Event?) {
        var settled: Settled?
        do throws(ControlError) {
            if let (action, provider, report) = try await settle(target, healthy: healthy) {
                settled = (ActionKind(rawValue: action) ?? .failover, provider, report)
            }
            let owned = try await executors[target]?.failedOverProviders()
            return (settled, .ownershipRead([target: owned.map { .success($0) } ?? .failure(.init("no target \(target)"))]))
        } catch { return (settled, .ownershipRead([target: .failure(Custody.ReadFailure(error.description))])) }
    }

    /// Settles `target` again: what was settled, or the core told nothing was (or why it could not tell).
    public func settleAgain(_ target: String, healthy: Set<String>) async -> (settled: Settled?, then: AgentCore.Event?) {
        do throws(ControlError) {
            guard let (action, provider, report) = try await settle(target, healthy: healthy) else {
                return (nil, .settleUnreadable(target: target, why: nil))
            }
            return ((ActionKind(rawValue: action) ?? .failover, provider, report), nil)
        } catch { return (nil, .settleUnreadable(target: target, why: error.description)) }
    }

    /// One check of the next deployment after a restore written without a redeploy
    /// (``TargetExecutor/checkNextDeployment(_:stop:)``); a final answer is journaled. nil when
    /// the shutdown stopped it.
    public func checkNextDeployment(of target: String, provider: String, _ awaited: AwaitedDeployment) async -> NextDeploymentCheck? {
        guard let executor = executors[target] else { return .notVerified("no target \(target)") }
        let check = await executor.checkNextDeployment(awaited, stop: { [stop] in stop.isRaised })
        guard !stop.isRaised else { return nil }
        let summary: String? =
            switch check {
            case .notYet: nil
            case .verified: "verified live after the next deployment"
            case .notVerified(let problem): "not verified: \(problem)"
            }
        if let summary { _ = try? await journal.record("verification", target: target, provider: provider, detail: "restore \(summary)") }
        return check
    }
}

extension ActionFinished {
    /// What `report` came to, as the core needs it.
    init(_ kind: ActionKind, provider: String, proposal: String?, _ report: ActionReport, recovered: Bool, awaiting: AwaitedDeployment?) {
        self.init(
            kind: kind, provider: provider, target: report.target, proposal: proposal, outcome: report.outcome,
            leftToPeople: report.leftToPeople, changeRequestProblem: report.changeRequestProblem, awaiting: awaiting,
            verified: report.verified, recovered: recovered, warnings: report.warnings, deployDecision: report.deployDecision)
    }
}
