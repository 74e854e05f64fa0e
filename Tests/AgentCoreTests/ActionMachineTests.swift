import AgentConfig
import Lifecycle
import Testing

extension ActionMachine {
    /// A machine of `kind` for Vertex AI on the example catalog, carried out (`apply`).
    init(kind: ActionKind, options: Options, journaled: [String] = [], checks: Checks? = nil) {
        self.init(
            planning: .init(
                kind: kind, provider: "vertex", planner: ExampleTarget.planner(), apply: true, canProbe: true, target: "t",
                secret: "runway/t"),
            options: options, journaled: journaled, checks: checks)
    }
}

/// What the checks found, for the steps that need them.
let checks = ActionMachine.Checks(
    secretVersion: 3,
    carrier: DeployFacts.Candidate(pipeline: 7, sha: "sha7", trigger: DeployFacts.Trigger(job: 70, name: "deploy", status: "")),
    startedBeforeWrite: [7], intended: #"{"duo_chat":["claude_sonnet_4_6"]}"#)

/// Runs a machine to its end, answering each step from `answers` (default `.done`; the plan
/// `.checked(checks)`) — the write and the redeploy as whole steps; after a crash before the write,
/// the secret read back as `current` — and returns the steps run in order and the outcome.
func drive(
    _ machine: inout ActionMachine, _ answers: [ActionMachine.Step: [ActionMachine.Result]] = [:],
    current: (version: Int, value: String?) = (3, nil)
) -> ([ActionMachine.Step], ActionOutcome) {
    var answers = answers
    var ran: [ActionMachine.Step] = []
    var request = machine.request
    for _ in 0..<50 {
        let step: ActionMachine.Step
        switch request {
        case .finish(let outcome): return (ran, outcome)
        case .readCurrent:
            ran.append(.reconcileWrite)
            request = machine.answered(current: current.version, value: current.value)
            continue
        case .adoptWrite: step = .reconcileWrite
        case .run(let run): step = run
        case .plan: step = .plan
        case .write: step = .write
        case .deploy: step = .redeploy
        }
        if step != .reconcileWrite { ran.append(step) }
        let result = answers[step]?.isEmpty == false ? answers[step]!.removeFirst() : step == .plan ? .checked(checks) : .done
        request = machine.completed(step, result)
    }
    Issue.record("the machine did not end in 50 steps: \(ran)")
    return (ran, .failed("loop"))
}

@Suite struct ActionMachineTests {
    let full = ActionMachine.Options(changeRequest: true, verify: true)

    @Test func failoverRunsEveryStepOnceInOrder() {
        var lifecycle = ActionMachine(kind: .failover, options: full)
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .openChangeRequest, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
    }

    @Test func withoutGatewayOrChangeRequestTheFailoverIsUnverified() {
        var lifecycle = ActionMachine(kind: .failover, options: .init())
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .write, .redeploy])
        #expect(outcome == .deployed)
    }

    @Test func theRunbooksRestoreWritesAndClosesWithoutARedeploy() {
        var lifecycle = ActionMachine(kind: .restore, options: full)
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .write, .closeChangeRequest])
        #expect(outcome == .written)
    }

    @Test func aFastRestoreRedeploysAndVerifiesBeforeClosing() {
        var options = full
        options.restoreRedeploy = true
        var lifecycle = ActionMachine(kind: .restore, options: options)
        let (ran, outcome) = drive(&lifecycle)
        #expect(ran == [.plan, .write, .redeploy, .verify, .closeChangeRequest])
        #expect(outcome == .deployed)
    }

    @Test func aChangeRequestThatCannotBeOpenedNeverBlocksTheFailover() {
        var lifecycle = ActionMachine(kind: .failover, options: full)
        let (ran, outcome) = drive(&lifecycle, [.openChangeRequest: [.failed("GitLab 500")]])
        #expect(ran == [.plan, .openChangeRequest, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
        #expect(lifecycle.changeRequestProblem == "GitLab 500")
    }

    @Test func conflictsPlanAgainUpToTheLimitAndTheChangeRequestIsNotOpenedTwice() {
        var lifecycle = ActionMachine(kind: .failover, options: full)
        let (ran, outcome) = drive(&lifecycle, [.write: [.conflict, .conflict]])
        #expect(ran == [.plan, .openChangeRequest, .write, .plan, .write, .plan, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
        var stubborn = ActionMachine(kind: .failover, options: full)
        let (again, refused) = drive(&stubborn, [.write: [.conflict, .conflict, .conflict]])
        #expect(again.filter { $0 == .write }.count == 3)
        guard case .refused = refused else {
            Issue.record("expected refused, got \(refused)")
            return
        }
    }

    @Test func everyFaultEndsTheActionWithItsOwnOutcome() {
        let cases: [(ActionMachine.Step, ActionMachine.Result, ActionOutcome)] = [
            (.plan, .nothingToDo("no feature uses it"), .nothingToDo("no feature uses it")),
            (.plan, .refused("older pipeline"), .refused("older pipeline")),
            (.write, .failed("Vault down"), .failed("Vault down")),
            (.redeploy, .deployFailed(status: "failed"), .deployFailed(status: "failed")),
            (.redeploy, .refused("not retryable; put back"), .refused("not retryable; put back")),
            (.redeploy, .interrupted("shutdown"), .interrupted("shutdown")),
            (.verify, .notVerified("still old defaults"), .notVerified("still old defaults")),
        ]
        for (step, fault, expected) in cases {
            var lifecycle = ActionMachine(kind: .failover, options: full)
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
        let sequence = ActionMachine(kind: kind, options: options).sequence
        for crashAfter in 0...sequence.count {
            let before = Array(sequence.prefix(crashAfter))
            var resumed = ActionMachine(kind: kind, options: options, journaled: before.map(\.rawValue), checks: checks)
            // A crash between the checks and the write: the write landed (its answer was lost) when
            // every step before it was done; otherwise it was never tried and the action plans again.
            let inWriteGap = before.contains(.plan) && !before.contains(.write)
            let writeTried = inWriteGap && sequence.prefix { $0 != .write }.allSatisfy(before.contains)
            let (ran, _) = drive(&resumed, current: writeTried ? (4, checks.intended) : (3, nil))
            let left = sequence.filter { !before.contains($0) }
            let expected =
                !inWriteGap ? left : writeTried ? [.reconcileWrite] + left.filter { $0 != .write } : [.reconcileWrite, .plan] + left
            #expect(ran == expected, "crash after \(crashAfter) steps")
        }
    }

    @Test func aCrashBeforeTheWriteLandedPlansAgainButKeepsTheChangeRequest() {
        var lifecycle = ActionMachine(kind: .failover, options: full, journaled: ["checked", "change-request"], checks: checks)
        let (ran, outcome) = drive(&lifecycle, current: (3, "{}"))
        #expect(ran == [.reconcileWrite, .plan, .write, .redeploy, .verify])
        #expect(outcome == .deployed)
        var stale = ActionMachine(kind: .failover, options: full, journaled: ["checked"], checks: checks)
        let (_, abandoned) = drive(&stale, current: (5, "{}"))
        #expect(abandoned == .abandoned("the secret changed since (version 3 → 5); not carried out"))
    }

    @Test func unknownJournalNamesAndRepeatsAreIgnored() {
        let lifecycle = ActionMachine(
            kind: .failover, options: full, journaled: ["job-retried", "checked", "checked", "change-request", "secret-written"],
            checks: checks)
        #expect(lifecycle.done == [.plan, .openChangeRequest, .write])
        #expect(lifecycle.request == .deploy(.findEarlierRetry), "written by an earlier run: its retry is looked for first")
    }

    /// A failover request by request: the write-ahead record, a write whose answer is lost and
    /// found landed, a deploy decided and followed to its end.
    @Test func aFailoverRequestByRequest() {
        var machine = ActionMachine(kind: .failover, options: .init())
        #expect(machine.request == .plan(.read))
        #expect(machine.completed(.plan, .checked(checks)) == .write(.recordAhead(over: 3)))
        #expect(machine.answered(write: .recorded) == .write(.send(over: 3)))
        #expect(machine.answered(write: .lost("502")) == .write(.readBack(over: 3)))
        #expect(machine.answered(write: .readBack(ours: true)) == .write(.landed(version: 4, lost: "502")))
        let retry = DeployDecision.retry(checks.carrier!, why: "what production runs")
        #expect(machine.completed(.write, .done) == .deploy(.look(startedBeforeWrite: [7])), "written here: decided afresh")
        #expect(machine.answered(deploy: .looked(retry, started: [7])) == .deploy(.announce(round: 1, retry)))
        #expect(
            machine.answered(deploy: .done) == .deploy(.retry(checks.carrier!)), "the checked job carries it: retried, not recorded again")
        #expect(machine.answered(deploy: .ended(failed: nil, failureReason: nil)) == .deploy(.finish(.ended(pipeline: checks.carrier!))))
        #expect(machine.completed(.redeploy, .done) == .finish(.deployed))
    }

    @Test func aConflictPlansAgainAndTheNextWriteIsOverTheNewVersion() {
        var machine = ActionMachine(kind: .failover, options: .init())
        machine.completed(.plan, .checked(checks))
        machine.answered(write: .recorded)
        #expect(machine.answered(write: .conflict) == .write(.readBack(over: 3)))
        #expect(machine.answered(write: .readBack(ours: false)) == .write(.conflict))
        #expect(machine.completed(.write, .conflict) == .plan(.read))
        var again = checks
        again.secretVersion = 5
        #expect(machine.completed(.plan, .checked(again)) == .write(.recordAhead(over: 5)), "never over the version that conflicted")
    }

    @Test func answersOutOfTurnEndTheActionFailed() {
        var machine = ActionMachine(kind: .failover, options: .init())
        guard case .finish(.failed) = machine.answered(write: .recorded) else {
            Issue.record("a write answer was taken before the plan")
            return
        }
        #expect(
            machine.completed(.plan, .checked(checks)) == machine.request && machine.request != .write(.recordAhead(over: 3)),
            "it stays ended")
        var planned = ActionMachine(kind: .failover, options: .init())
        planned.completed(.plan, .checked(checks))
        guard case .finish(.failed) = planned.answered(deploy: .started) else {
            Issue.record("a deploy answer was taken during the write")
            return
        }
        var unchecked = ActionMachine(kind: .failover, options: .init())
        #expect(unchecked.completed(.plan, .done) == .finish(.failed("a write without its checks")))
        var fresh = ActionMachine(kind: .failover, options: .init())
        #expect(
            fresh.answered(current: 4, value: checks.intended) == .finish(.failed("the secret read back as version 4 out of turn")),
            "a read-back is only taken after a crash before the write")
    }

    /// Answers the plan's requests as a healthy world does (probes from `classes`, default `ok`),
    /// returns the first request past the plan and the probes asked.
    func plan(_ machine: inout ActionMachine, version: Int = 3, classes: [String: String] = [:]) -> (ActionMachine.Request, [[String]]) {
        let facts = DeployFacts(
            production: .init(sha: "aaaa", pipeline: 10),
            pipelines: [.init(pipeline: 10, sha: "aaaa", trigger: .init(job: 100, name: "Deploy [production]", status: "success"))])
        var probed: [[String]] = []
        var request = machine.request
        while case .plan(let asked) = request {
            let answer: PlanMachine.Answer
            switch asked {
            case .read:
                answer = .read(SecretSnapshot(version: version, deleted: false, current: .init(), recorded: .init(), ownership: .init()))
            case .readiness: answer = .unready([])
            case .deployedCatalog: answer = .deployedCatalog(nil)
            case .preflight(let models):
                probed.append(models)
                answer = .probed(Dictionary(uniqueKeysWithValues: models.map { ($0, classes[$0] ?? "ok") }))
            case .deployFacts: answer = .deployFacts(facts)
            case .journal: answer = .journaled
            case .finish(let result):
                request = machine.completed(.plan, result)
                continue
            default:
                Issue.record("not asked of a failover from an empty secret: \(asked)")
                return (request, probed)
            }
            request = machine.answered(plan: answer)
        }
        return (request, probed)
    }

    @Test func theMachinePlansRequestByRequestThenWrites() {
        var machine = ActionMachine(kind: .failover, options: .init())
        let (next, probed) = plan(&machine)
        #expect(next == .write(.recordAhead(over: 3)), "the write goes over the version the plan read")
        #expect(probed == [["claude_sonnet_4_6_bedrock"]])
        #expect(machine.findings.plan?.changes.isEmpty == false)
        #expect(machine.findings.deployDecision != nil)
    }

    @Test func withoutApplyThePlanIsWhereItEnds() {
        var machine = ActionMachine(
            planning: .init(kind: .failover, provider: "vertex", planner: ExampleTarget.planner(), apply: false, target: "t", secret: "s"),
            options: full)
        #expect(plan(&machine).0 == .finish(.planned))
    }

    @Test func aReplacementThatFailedItsPreflightStaysAvoidedAfterAConflict() {
        var machine = ActionMachine(kind: .failover, options: .init())
        let (_, first) = plan(&machine, classes: ["claude_sonnet_4_6_bedrock": "http_5xx"])
        #expect(first == [["claude_sonnet_4_6_bedrock"], ["claude_sonnet_4_6"]])
        machine.answered(write: .recorded)
        machine.answered(write: .conflict)
        machine.answered(write: .readBack(ours: false))
        #expect(machine.completed(.write, .conflict) == .plan(.read), "planned again over the new version")
        let (next, again) = plan(&machine, version: 4)
        #expect(next == .write(.recordAhead(over: 4)))
        #expect(again == [["claude_sonnet_4_6"]], "the failed replacement is not chosen again")
        #expect(machine.findings.preflight.map(\.model) == ["claude_sonnet_4_6_bedrock", "claude_sonnet_4_6", "claude_sonnet_4_6"])
        #expect(machine.findings.secretVersion == 4, "the last round's checks")
    }

    @Test func aPlanAnswerOutOfTurnEndsTheActionFailed() {
        var machine = ActionMachine(kind: .failover, options: .init())
        machine.completed(.plan, .checked(checks))
        guard case .finish(.failed) = machine.answered(plan: .unready([])) else {
            Issue.record("a plan answer was taken during the write")
            return
        }
    }
}
