import Lifecycle
import Testing

/// The change request of an action, answer by answer (pure).
@Suite struct ChangeRequestMachineTests {
    /// Answers each request from `answers` (by request, default `.done`) and returns the requests made.
    func run(_ machine: ChangeRequestMachine, _ answers: KeyValuePairs<ChangeRequestMachine.Request, ChangeRequestMachine.Answer> = [:])
        -> [ChangeRequestMachine.Request]
    {
        var machine = machine
        var asked: [ChangeRequestMachine.Request] = []
        while asked.count < 12 {
            asked.append(machine.request)
            if case .finish = machine.request { return asked }
            let request = machine.request
            machine.answered(answers.first { $0.key == request }?.value ?? .done)
        }
        Issue.record("did not finish: \(asked)")
        return asked
    }

    @Test func aFailoverGoesOnInOneChangeRequestPerIncident() {
        let opening = ChangeRequestMachine.opening(project: "ops", group: nil)
        #expect(
            run(opening, [.readRecorded: .recorded(nil), .find: .found(nil), .open: .opened(5)]) == [
                .readRecorded, .find, .open, .journal(5), .finish(.done),
            ], "none known: opened")
        #expect(
            run(opening, [.readRecorded: .recorded(nil), .find: .found(4)]) == [
                .readRecorded, .find, .note(.carriedOn, on: 4), .journal(4), .finish(.done),
            ], "an earlier attempt's, found by its mark: carried on in, never opened twice")
        #expect(
            run(opening, [.readRecorded: .recorded(3)]) == [.readRecorded, .note(.carriedOn, on: 3), .journal(3), .finish(.done)],
            "recorded in the secret's metadata: carried on in")
        #expect(
            run(.opening(project: "ops", group: 9), [.readRecorded: .recorded(nil)]) == [
                .readRecorded, .recordGroup(9), .note(.member, on: 9), .journal(9), .finish(.done),
            ], "the group's: recorded for this target too, with a note of its part")
    }

    @Test func aNoteThatCannotBeWrittenNeverBlocks() {
        #expect(
            run(.opening(project: "ops", group: nil), [.readRecorded: .recorded(3), .note(.carriedOn, on: 3): .failed("500")]).suffix(2)
                == [.journal(3), .finish(.done)])
        #expect(
            run(.closing(project: "ops", iid: 3, last: false), [.note(.restoredInGroup, on: 3): .failed("500")]) == [
                .note(.restoredInGroup, on: 3), .forget, .journal(3), .finish(.done),
            ], "not the group's last: noted, forgotten, left open")
    }

    @Test func aChangeRequestThatCannotBeOpenedOrClosedFailsTheStepAndSaysWhere() {
        #expect(
            run(.opening(project: "ops", group: nil), [.readRecorded: .recorded(nil), .find: .failed("403")]).last
                == .finish(.failed("cannot open a change request in ops: 403")))
        #expect(
            run(.opening(project: "ops", group: nil), [.readRecorded: .recorded(nil), .find: .found(nil), .open: .failed("403")]).last
                == .finish(.failed("cannot open a change request in ops: 403")))
        let closing = ChangeRequestMachine.closing(project: "ops", iid: 3, last: true)
        #expect(run(closing) == [.note(.closing, on: 3), .close(3), .forget, .journal(3), .finish(.done)])
        #expect(
            run(closing, [.note(.closing, on: 3): .failed("500")]) == [
                .note(.closing, on: 3), .finish(.failed("cannot close change request ops#3: 500")),
            ], "the closing note is part of the close: never closed without it")
        #expect(run(closing, [.close(3): .failed("500")]).last == .finish(.failed("cannot close change request ops#3: 500")))
    }

    @Test func anAnswerOutOfTurnFailsTheStep() {
        var machine = ChangeRequestMachine.opening(project: "ops", group: nil)
        #expect(machine.answered(.opened(5)) == .finish(.failed("the change request step was answered opened(5) out of turn")))
        #expect(machine.answered(.done) == machine.request, "and stays ended")
        #expect(machine.iid == nil)
    }
}
