import Lifecycle
import Selection
import Testing

/// What a target's ownership record leaves to settle, case by case.
@Suite struct HandoverTests {
    static let pending = PendingAction(
        action: "failover", provider: "vertex", pipeline: 7, job: 1, jobName: "deploy",
        write: .init(casVersion: 4, providers: ["vertex"], keys: ["chat": .init(before: nil, after: ["claude"])], baseVersion: 4), id: "a1")

    static func owned(_ providers: [String], pending: PendingAction? = nil, changeRequests: [String: Int] = [:]) -> Ownership {
        var owned = Ownership()
        owned.providers = providers
        owned.pending = pending
        owned.changeRequests = changeRequests
        return owned
    }

    @Test func nothingRecordedIsNothingToSettle() {
        let owned = Self.owned(["vertex"], changeRequests: ["vertex": 12])
        #expect(Handover(recorded: owned, standing: owned) == .nothing, "a failover's change request stays open while it is owned")
        #expect(Handover(recorded: Ownership(), standing: Ownership()) == .nothing)
    }

    @Test func aRestoreDoneButForItsClosingClosesItsChangeRequest() {
        let owned = Self.owned([], changeRequests: ["bedrock": 9, "vertex": 12])
        #expect(Handover(recorded: owned, standing: owned) == .closeChangeRequest(provider: "bedrock", iid: 9), "the first, by provider")
    }

    @Test func anActionStoppedBeforeItsWriteIsPutBack() {
        let recorded = Self.owned([], pending: Self.pending)
        #expect(Handover(recorded: recorded, standing: recorded.settled) == .putBack(Self.pending, record: recorded.settled))
    }

    @Test func anActionThatWroteIsResumedWithWhatItOwes() {
        let recorded = Self.owned([], pending: Self.pending, changeRequests: ["vertex": 12])
        let standing = recorded.written(as: 5)
        guard case .resume(let resumed) = Handover(recorded: recorded, standing: standing) else {
            Issue.record("not resumed")
            return
        }
        #expect(resumed.kind == .failover && resumed.redeploys && resumed.changeRequest == 12)
        #expect(resumed.record == standing, "what stands is recorded first")
        var noJob = Self.pending
        (noJob.pipeline, noJob.write) = (0, nil)
        let written = Self.owned(["vertex"], pending: noJob)
        guard case .resume(let again) = Handover(recorded: written, standing: written) else {
            Issue.record("not resumed")
            return
        }
        #expect(again.record == nil && !again.redeploys && again.changeRequest == nil, "nothing to record; no job checked, no redeploy")
    }
}
