import Lifecycle
import Testing

/// Carrying a write to production while `main` moves, answer by answer (pure): which request
/// each answer leads to, and how the rounds end.
struct DeployMachineTests {
    typealias Candidate = DeployFacts.Candidate

    func pipeline(_ id: Int, _ status: String = "success") -> Candidate {
        Candidate(pipeline: id, sha: "sha\(id)", trigger: DeployFacts.Trigger(job: id * 10, name: "deploy", status: status))
    }

    /// Feeds `answers` in turn; returns every request made, the last one included.
    func run(_ machine: inout DeployMachine, _ answers: [DeployMachine.Answer]) -> [DeployMachine.Request] {
        var requests = [machine.request]
        for answer in answers { requests.append(machine.answered(answer)) }
        return requests
    }

    @Test func theCheckedPipelineIsRetriedAndItsEndIsTheAction() {
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let retry = DeployDecision.retry(pipeline(7), why: "what production runs")
        let requests = run(&machine, [.looked(retry, started: [7]), .done, .ended(failed: nil, failureReason: nil)])
        #expect(
            requests == [
                .look(startedBeforeWrite: [7]), .announce(round: 1, retry), .retry(pipeline(7)), .finish(.ended(pipeline: pipeline(7))),
            ], "the checked job is already the recorded carrier: no record before the retry")
    }

    @Test func anotherJobIsRecordedAsTheCarrierBeforeItIsRetried() {
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let retry = DeployDecision.retry(pipeline(8), why: "production moved on")
        let requests = run(&machine, [.looked(retry, started: [7, 8]), .done, .done])
        #expect(requests.suffix(2) == [.recordCarrier(pipeline(8)), .retry(pipeline(8))])
        #expect(machine.carrier == DeployMachine.Carrier(pipeline: 8, job: 80))
    }

    @Test func aRefusedRetryEndsTheActionOnlyWhenNotOutdated() {
        let retry = DeployDecision.retry(pipeline(7), why: "w")
        var first = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        #expect(run(&first, [.looked(retry, started: [7]), .done, .retryRefused("403")]).last == .finish(.retryRefused("403")))
        var outdated = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let again = run(
            &outdated, [.looked(retry, started: [7]), .done, .retryRefused("Outdated deployment"), .looked(retry, started: [7])])
        #expect(again.suffix(2) == [.look(startedBeforeWrite: [7]), .announce(round: 2, retry)], "production moved on: decided again")
        // A refusal in a later round is no longer "nothing started": the secret holds the change.
        #expect(
            outdated.answered(.done) == .retry(pipeline(7))
                && outdated.answered(.retryRefused("403")) == .finish(.refused("403; the secret holds the change")))
    }

    @Test func aRetryFailedAsAnOutdatedDeploymentIsDecidedAgain() {
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let retry = DeployDecision.retry(pipeline(7), why: "w")
        let requests = run(
            &machine, [.looked(retry, started: [7]), .done, .ended(failed: "failed", failureReason: "forward_deployment_failure")])
        #expect(requests.last == .look(startedBeforeWrite: [7]) && machine.round == 2)
        // Any other failure is the action's deploy failing: the lifecycle says what follows.
        var failing = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let ended = run(&failing, [.looked(retry, started: [7]), .done, .ended(failed: "script_failure", failureReason: "script_failure")])
        #expect(ended.last == .finish(.ended(pipeline: pipeline(7))))
    }

    @Test func aNewerDeployIsAwaitedThenFollowedAndOnlyItsSuccessEndsIt() {
        let follow = DeployDecision.follow(pipeline(8, "pending"), why: "w")
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let requests = run(&machine, [.looked(follow, started: [7]), .done, .started, .ended(failed: "failed", failureReason: nil)])
        #expect(
            requests.suffix(3) == [
                .awaitStart(pipeline(8, "pending")), .follow(pipeline: pipeline(8, "pending"), carries: true),
                .look(startedBeforeWrite: [7]),
            ], "the followed deploy failed: decided again")
        var late = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let last = run(&late, [.looked(follow, started: [7]), .done, .notStarted(within: "10m")]).last
        guard case .finish(.notStarted(let why)) = last else {
            Issue.record("\(String(describing: last))")
            return
        }
        #expect(why.contains("#8 did not start within 10m") && why.contains("the secret holds the change"))
    }

    @Test func aDeployThatReadTheOldSecretIsWaitedForNotCarriedThenDecidedAgain() {
        let wait = DeployDecision.wait(pipeline(8, "running"), why: "w")
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: nil)
        let requests = run(&machine, [.looked(wait, started: [7, 8]), .done, .ended(failed: nil, failureReason: nil)])
        #expect(
            requests.suffix(2) == [.follow(pipeline: pipeline(8, "running"), carries: false), .look(startedBeforeWrite: [7, 8])],
            "what had started by the first look is taken to have read the old secret")
    }

    @Test func noDeployThatCanCarryItIsRefusedWithoutAnnouncing() {
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let requests = run(&machine, [.looked(.refuse("production runs an unknown image"), started: [])])
        #expect(
            requests.last
                == .finish(.refused("production runs an unknown image; the secret holds the change, and no deploy can carry it now")))
    }

    @Test func resumedTheEarlierRetryIsFollowedToItsEndWhateverItIs() {
        var found = DeployMachine(carrier: pipeline(7), resumed: true, startedBeforeWrite: nil)
        let requests = run(&found, [.earlierRetry(found: true), .ended(failed: "failed", failureReason: nil)])
        #expect(
            requests == [
                .findEarlierRetry, .follow(pipeline: pipeline(7), carries: true), .finish(.ended(pipeline: pipeline(7))),
            ], "never a second deploy for one action")
        var none = DeployMachine(carrier: pipeline(7), resumed: true, startedBeforeWrite: nil)
        #expect(run(&none, [.earlierRetry(found: false)]).last == .look(startedBeforeWrite: nil) && none.round == 1)
        // Without a checked carrier there is nothing to look for.
        #expect(DeployMachine(carrier: nil, resumed: true, startedBeforeWrite: nil).request == .look(startedBeforeWrite: nil))
    }

    @Test func fourRoundsAreTheMost() {
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        let retry = DeployDecision.retry(pipeline(7), why: "w")
        var last = machine.request
        for _ in 1...DeployMachine.rounds {
            last = run(&machine, [.looked(retry, started: [7]), .done, .retryRefused("outdated deployment")]).last!
        }
        #expect(last == .finish(.gaveUp("no deploy carried the change after 4 rounds of deciding; the secret holds it")))
    }

    @Test func anAnswerOutOfTurnEndsItRefused() {
        var machine = DeployMachine(carrier: pipeline(7), resumed: false, startedBeforeWrite: [7])
        guard case .finish(.refused(let why)) = machine.answered(.started) else {
            Issue.record("an answer to a request never made was taken")
            return
        }
        #expect(why.contains("answered started"))
    }
}
