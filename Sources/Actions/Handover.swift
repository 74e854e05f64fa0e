import ControlAPI
import GatewayClient
import GitLabClient
import Lifecycle
import Logging
import Selection
import VaultClient

/// Settling what an earlier action left under way, as the secret's metadata records it: by a
/// replica that died or lost the Lease, or by this one before a restart.
extension TargetExecutor {
    /// The action the secret's metadata records as under way, if any.
    public func recordedPending() async throws(ControlError) -> PendingAction? { try await recordedOwnership().pending }

    /// What the secret's metadata says is owed: an action under way, or the closing of a change
    /// request nothing follows any more (``Handover/unclosed(_:healthy:)``).
    public func recordedWork(healthy: Set<String>) async throws(ControlError) -> (action: String, provider: String)? {
        let owned = try await recordedOwnership()
        if let pending = owned.pending { return (pending.action, pending.provider) }
        return Handover.unclosed(owned, healthy: healthy).map { (ActionKind.restore.rawValue, $0.provider) }
    }

    /// Closes a change request its restore left open (``recordedWork()``), saying so.
    func closeLeftChangeRequest(provider: String, iid: Int) async -> ActionReport {
        var state = ActionState(
            kind: .restore, provider: provider, report: ActionReport(target: target.name, outcome: .nothingToDo("")), changeRequest: iid,
            resumed: true)
        var report = state.report
        do throws(ControlError) {
            switch try await closeChangeRequest(&state) {
            case .done:
                report.outcome = .nothingToDo("the restore of \(provider) was done; its change request #\(iid) is closed now")
            case .failed(let why): report.outcome = .failed(why)
            default: break
            }
        } catch { report.outcome = .failed(error.description) }
        report.changeRequest = iid
        return report
    }

    /// Closes change request `iid` of `provider` with `note` (posted once, by its mark), then
    /// forgets it in the record.
    func closeChangeRequest(_ iid: Int, of provider: String, note: String) async throws(ControlError) {
        guard let settings = target.changeRequest else { return }
        try await redeployer.gitlab.note(settings, issue: iid, note, action: "unneeded-\(iid)", resumed: true, settled: settled)
        try await redeployer.gitlab.closeIssue(settings, issue: iid)
        logger.notice("closed change request \(settings.project)#\(iid): \(note)")
        try await forgetChangeRequest(of: provider)
    }

    /// Forgets the change request recorded for `provider` in the ownership record.
    func forgetChangeRequest(of provider: String) async throws(ControlError) {
        var owned = try await recordedOwnership()
        owned.changeRequests[provider] = nil
        try await record(owned)
    }

    /// The ownership record as the secret's metadata holds it.
    func recordedOwnership() async throws(ControlError) -> Ownership {
        let metadata = try await vault.customMetadata()
        do { return try Ownership(metadata: metadata) } catch {
            throw .refused("the agent's ownership record in the secret's custom_metadata is unreadable (\(error))")
        }
    }

    /// Settles what the secret's metadata records (``Handover``), left by a replica that lost
    /// the Lease or crashed (or by this one): if a write never happened, puts its record back (and
    /// closes its failover's change request when the provider is healthy again); if it did,
    /// resumes its lifecycle after the write (the redeploy it owes, the change request); closes a
    /// change request a finished restore left open. The plan is not in the metadata, so a resumed
    /// action is not verified on the gateway. `healthy`: the subjects the agent has seen healthy.
    /// nil when nothing is owed.
    public func settlePending(healthy: Set<String>) async -> ActionReport? {
        var report = ActionReport(target: target.name, outcome: .nothingToDo(""))
        do throws(ControlError) {
            let snap = try await snapshot()
            let resumed: Handover.Resumed
            switch Handover(recorded: snap.recorded, standing: snap.ownership, healthy: healthy) {
            case .nothing: return nil
            case .closeChangeRequest(let provider, let iid): return await closeLeftChangeRequest(provider: provider, iid: iid)
            case .putBack(let pending, let standing, let closing):
                try await record(standing)
                let what = "the \(pending.action) of \(pending.provider) stopped before its secret write"
                report.outcome = .nothingToDo("\(what); its record is put back")
                if let iid = closing {
                    try await closeChangeRequest(
                        iid, of: pending.provider,
                        note: "The failover of \(pending.provider) stopped before its secret write (a restart or a change of leader), "
                            + "and \(pending.provider) is healthy again: nothing was changed. Closing.")
                    report.outcome = .nothingToDo("\(what), and \(pending.provider) is healthy again: change request #\(iid) closed")
                    report.changeRequest = iid
                }
                return report
            case .resume(let settled): resumed = settled
            }
            if let standing = resumed.record { try await record(standing) }
            let (pending, redeploys) = (resumed.pending, resumed.redeploys)
            let version = snap.ownership.writtenVersion.map(String.init) ?? "?"
            logger.notice(
                "the \(pending.action) of \(pending.provider) wrote the secret (version \(version)) and still owes its redeploy: finishing it"
            )
            let checked = CheckedStep(
                secretVersion: snap.secret.version - 1, intended: snap.secret.value ?? "", pipeline: redeploys ? pending.pipeline : nil,
                sha: nil, job: redeploys ? pending.job : nil, jobName: redeploys ? pending.jobName : nil, expect: [:],
                changeRequest: resumed.changeRequest, action: pending.id)
            var unverified = options
            unverified.verify = false
            return await perform(
                resumed.kind, provider: pending.provider, apply: true, journaled: [(ActionMachine.Step.plan.rawValue, checked.detail)],
                options: unverified)
        } catch .refused(let why) {
            report.outcome = .refused(why)
        } catch {
            report.outcome = .failed(error.description)
        }
        return report
    }

    /// Whether the pending write happened: check-and-set over `cas` creates `cas + 1`, so it did
    /// if that version holds what it meant to write.
    func wrote(_ recorded: Ownership, over cas: Int, now: Int) async throws(ControlError) -> Bool {
        guard now > cas else { return false }
        let written = try await vault.read(version: cas + 1)
        guard let override = try? ModelOverride.parse(written.data[target.vault.key]?.string ?? "") else { return false }
        return recorded.isPendingWrite(override)
    }
}
