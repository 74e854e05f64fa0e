import Lifecycle
import Testing

/// Runs a lifecycle to its end, answering each step from `answers` (default `.done`), and
/// returns the steps run in order and the outcome.
func drive(_ lifecycle: inout ActionLifecycle, _ answers: [ActionLifecycle.Step: [ActionLifecycle.Result]] = [:]) -> (
    [ActionLifecycle.Step], ActionOutcome
) {
    var answers = answers
    var ran: [ActionLifecycle.Step] = []
    var next = lifecycle.next
    for _ in 0..<50 {
        switch next {
        case .finish(let outcome): return (ran, outcome)
        case .run(let step):
            ran.append(step)
            let result = answers[step]?.isEmpty == false ? answers[step]!.removeFirst() : .done
            next = lifecycle.completed(step, result)
        }
    }
    Issue.record("the lifecycle did not end in 50 steps: \(ran)")
    return (ran, .failed("loop"))
}

@Suite struct ActionLifecycleTests {
    let full = ActionLifecycle.Options(changeRequest: true, verify: true)

    @Test func failoverRunsEveryStepOnceInOrder() {
        var lifecycle = ActionLifecycle(kind: .failover, options: full)
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .openChangeRequest, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
    }

    @Test func withoutGatewayOrChangeRequestTheFailoverIsUnverified() {
        var lifecycle = ActionLifecycle(kind: .failover, options: .init())
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .write, .redeploy])
        #expect(outcome == .deployed)
    }

    @Test func theRunbooksRestoreWritesAndClosesWithoutARedeploy() {
        var lifecycle = ActionLifecycle(kind: .restore, options: full)
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .write, .closeChangeRequest])
        #expect(outcome == .written)
    }

    @Test func aFastRestoreRedeploysAndVerifiesBeforeClosing() {
        var options = full
        options.restoreRedeploy = true
        var lifecycle = ActionLifecycle(kind: .restore, options: options)
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .write, .redeploy, .verify, .closeChangeRequest])
        #expect(outcome == .deployed)
    }

    @Test func aChangeRequestThatCannotBeOpenedNeverBlocksTheFailover() {
        var lifecycle = ActionLifecycle(kind: .failover, options: full)
        let (ran, outcome) = drive(&lifecycle, [.openChangeRequest: [.failed("GitLab 500")]])
        #expect(ran == [.plan, .openChangeRequest, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
        #expect(lifecycle.changeRequestProblem == "GitLab 500")
    }

    @Test func conflictsPlanAgainUpToTheLimitAndTheChangeRequestIsNotOpenedTwice() {
        var lifecycle = ActionLifecycle(kind: .failover, options: full)
        let (ran, outcome) = drive(&lifecycle, [.write: [.conflict, .conflict]])
        #expect(ran == [.plan, .openChangeRequest, .write, .plan, .write, .plan, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
        var stubborn = ActionLifecycle(kind: .failover, options: full)
        let (again, refused) = drive(&stubborn, [.write: [.conflict, .conflict, .conflict]])
        #expect(again.filter { $0 == .write }.count == 3)
        guard case .refused = refused else {
            Issue.record("expected refused, got \(refused)")
            return
        }
    }

    @Test func everyFaultEndsTheActionWithItsOwnOutcome() {
        let cases: [(ActionLifecycle.Step, ActionLifecycle.Result, ActionOutcome)] = [
            (.plan, .nothingToDo("no feature uses it"), .nothingToDo("no feature uses it")),
            (.plan, .refused("older pipeline"), .refused("older pipeline")),
            (.write, .failed("Vault down"), .failed("Vault down")),
            (.redeploy, .deployFailed(status: "failed"), .deployFailed(status: "failed")),
            (.redeploy, .refused("not retryable; put back"), .refused("not retryable; put back")),
            (.redeploy, .interrupted("shutdown"), .interrupted("shutdown")),
            (.verify, .notVerified("still old defaults"), .notVerified("still old defaults")),
        ]
        for (step, fault, expected) in cases {
            var lifecycle = ActionLifecycle(kind: .failover, options: full)
            let (ran, outcome) = drive(&lifecycle, [step: [fault]])
            #expect(outcome == expected, "\(step) \(fault)")
            #expect(ran.last == step, "nothing runs after the fault at \(step)")
        }
    }

    /// A crash after each step: the machine rebuilt from the journal runs exactly the steps not yet done.
    @Test(arguments: [ActionKind.failover, .restore], [false, true])
    func aCrashAfterAnyStepResumesWithTheRestAndRepeatsNothing(kind: ActionKind, restoreRedeploy: Bool) {
        var options = full
        options.restoreRedeploy = restoreRedeploy
        let sequence = ActionLifecycle(kind: kind, options: options).sequence
        for crashAfter in 0...sequence.count {
            let before = Array(sequence.prefix(crashAfter))
            var resumed = ActionLifecycle(kind: kind, options: options, journaled: before.map(\.rawValue))
            // A crash between the checks and the write: the write landed (its answer was lost) when
            // every step before it was done; otherwise it was never tried and the action plans again.
            let inWriteGap = before.contains(.plan) && !before.contains(.write)
            let writeTried = inWriteGap && sequence.prefix { $0 != .write }.allSatisfy(before.contains)
            let (ran, _) = drive(&resumed, [.reconcileWrite: [writeTried ? .writeFound : .writeMissing]])
            let left = sequence.filter { !before.contains($0) }
            let expected =
                !inWriteGap ? left : writeTried ? [.reconcileWrite] + left.filter { $0 != .write } : [.reconcileWrite, .plan] + left
            #expect(ran == expected, "crash after \(crashAfter) steps")
        }
    }

    @Test func aCrashBeforeTheWriteLandedPlansAgainButKeepsTheChangeRequest() {
        var lifecycle = ActionLifecycle(kind: .failover, options: full, journaled: ["checked", "change-request"])
        let (ran, outcome) = drive(&lifecycle, [.reconcileWrite: [.writeMissing]])
        #expect(ran == [.reconcileWrite, .plan, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
        var stale = ActionLifecycle(kind: .failover, options: full, journaled: ["checked"])
        let (_, abandoned) = drive(&stale, [.reconcileWrite: [.writeSuperseded("version 3 → 5")]])
        #expect(abandoned == .abandoned("version 3 → 5"))
    }

    @Test func unknownJournalNamesAndRepeatsAreIgnored() {
        let lifecycle = ActionLifecycle(
            kind: .failover, options: full, journaled: ["job-retried", "checked", "checked", "change-request", "secret-written"])
        #expect(lifecycle.done == [.plan, .openChangeRequest, .write])
        #expect(lifecycle.next == .run(.redeploy))
    }
}
