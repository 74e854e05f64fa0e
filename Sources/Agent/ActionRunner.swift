import Actions
import AgentCore
import ControlAPI
import Foundation
import Journal
import Synchronization

/// Carries out failovers and restores with a write-ahead journal: the intent before anything,
/// every step as it happens, the result after. After a crash, ``recover()`` finishes what was
/// interrupted without a second secret write or a second job retry.
public struct ActionRunner: Sendable {
    public let journal: Journal
    public let executors: [String: TargetExecutor]
    /// Asked before every side effect; false (the Lease was lost) stops the action there.
    public let isLeader: @Sendable () -> Bool
    /// Raised at shutdown: an action stops waiting for its deploy job (what is owed stays recorded).
    public let stop = StopSignal()
    /// The journal detail of a fire drill's halves.
    static let drillDetail = "fire drill"

    public init(journal: Journal, executors: [TargetExecutor], isLeader: @escaping @Sendable () -> Bool = { true }) {
        self.journal = journal
        self.executors = Dictionary(uniqueKeysWithValues: executors.map { ($0.target.name, $0) })
        self.isLeader = isLeader
    }

    /// Gives `executor` this runner's journal, Lease check and stop signal for one action.
    private func prepared(_ executor: TargetExecutor, intent: Int64) -> TargetExecutor {
        var executor = executor
        executor.logger[metadataKey: "intent"] = .string(String(intent))
        executor.onStep = journaling(intent)
        executor.mayAct = isLeader
        executor.stopping = { [stop] in stop.isRaised }
        return executor
    }

    struct LostLease: Error, CustomStringConvertible {
        var description: String { "this replica lost the Lease" }
    }

    /// Journals each step, but only while this replica leads.
    private func journaling(_ intent: Int64) -> @Sendable (ExecutionStep) async throws -> Void {
        { [journal, isLeader] step in
            guard isLeader() else { throw LostLease() }
            try await journal.step(intent, step.name, detail: step.detail)
        }
    }

    /// The intent stays open when the Lease was lost: the next leader's ``recover()`` finishes it.
    private func finish(_ intent: Int64, _ report: ActionReport, prefix: String = "") async -> ActionReport {
        guard isLeader() else {
            var stopped = report
            stopped.outcome = .failed("lost the Lease: stopped before the next side effect; the intent stays open for the next leader")
            return stopped
        }
        try? await journal.finish(intent, outcome: prefix + report.outcome.summary)
        return report
    }

    /// `avoid`: subjects whose probes do not show health now, never chosen as replacements.
    /// `terms`: a pinned plan, a group's change request (``ActionTerms``).
    public func run(
        _ kind: ActionKind, provider: String, target: String, proposal: String? = nil, avoid: Set<String> = [],
        terms: ActionTerms = ActionTerms()
    ) async -> ActionReport {
        let detail = proposal.map { "proposal \($0)" } ?? (terms.drill ? Self.drillDetail : "")
        guard var executor = executors[target] else { return ActionReport(target: target, outcome: .failed("no target \(target)")) }
        let intent: Int64
        do {
            intent = try await journal.beginIntent(
                kind.rawValue, target: target, provider: provider, detail: detail)
        } catch {
            return ActionReport(target: target, outcome: .failed("cannot write the journal: \(error)"))
        }
        executor = prepared(executor, intent: intent)
        let report = await executor.perform(
            kind, provider: provider, apply: true, approval: proposal.map { "proposal \($0)" }, avoid: avoid, terms: terms)
        return await finish(intent, report)
    }

    /// Settles what `target`'s secret metadata records as under way (see
    /// ``TargetExecutor/settlePending(healthy:)``), journaled as an intent of its own; nil when nothing is.
    /// `healthy`: the subjects the agent has seen healthy. Throws when the record cannot be read.
    public func settle(_ target: String, healthy: Set<String>) async throws(ControlError) -> (
        action: String, provider: String, report: ActionReport
    )? {
        guard var executor = executors[target], let pending = try await executor.recordedWork(healthy: healthy) else { return nil }
        let intent: Int64
        do {
            intent = try await journal.beginIntent(
                pending.action, target: target, provider: pending.provider, detail: "recorded as under way in the secret's metadata")
        } catch {
            throw .unavailable("cannot write the journal: \(error)")
        }
        executor = prepared(executor, intent: intent)
        guard let report = await executor.settlePending(healthy: healthy) else {
            try? await journal.finish(intent, outcome: "nothing to do: settled meanwhile")
            return nil
        }
        return (pending.action, pending.provider, await finish(intent, report, prefix: "settled from the secret's metadata: "))
    }

    /// Finishes every intent a crash left open: its lifecycle, rebuilt from the journaled steps,
    /// says what is left (see ``ActionMachine``); none of what was done is done again.
    public func recover() async -> [ActionReport] {
        var reports: [ActionReport] = []
        for intent in await openIntents() { if let report = await recover(intent) { reports.append(report.report) } }
        return reports
    }

    /// The intents a crash left open, oldest first.
    public func openIntents() async -> [Journal.Intent] { (try? await journal.openIntents()) ?? [] }

    /// Finishes one intent a crash left open (``recover()``); nil when it is only closed in the
    /// journal (stopped before its checks, or abandoned: nothing to report).
    public func recover(_ intent: Journal.Intent) async -> (kind: ActionKind, proposal: String?, report: ActionReport)? {
        guard var executor = executors[intent.target], let kind = ActionKind(rawValue: intent.action) else {
            try? await journal.finish(intent.id, outcome: "abandoned: unknown target or action")
            return nil
        }
        guard intent.step("checked") != nil else {
            try? await journal.finish(
                intent.id,
                outcome: "abandoned after restart: stopped before its checks, nothing was written; the health machine decides again")
            return nil
        }
        executor = prepared(executor, intent: intent.id)
        let proposal = intent.detail.hasPrefix("proposal ") ? String(intent.detail.dropFirst("proposal ".count)) : nil
        // A fire drill's half stays one: its change request is the drill's, its restore redeploys.
        let report = await executor.perform(
            kind, provider: intent.provider, apply: true, approval: proposal.map { "proposal \($0)" }, journaled: intent.steps,
            terms: ActionTerms(drill: intent.detail == ActionRunner.drillDetail))
        if case .abandoned = report.outcome {
            try? await journal.finish(intent.id, outcome: report.outcome.summary)
            return nil
        }
        return (kind, proposal, await finish(intent.id, report, prefix: "recovered after restart: "))
    }
}

/// A one-way flag, raised once when the agent starts shutting down.
public final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)
    public init() {}
    public var isRaised: Bool { raised.load(ordering: .acquiring) }
    public func raise() { raised.store(true, ordering: .releasing) }
}
