import ControlAPI
import GatewayClient
import GitLabClient
import Lifecycle
import Logging
import Selection
import VaultClient

/// Runs one action through its ``ActionMachine``: asks the machine for the next step, carries it
/// out (ActionSteps.swift), journals it, feeds the result back. The machine decides the order,
/// the retries and what a restart resumes; this file only executes.
extension TargetExecutor {
    /// What one action carries from step to step; rebuilt from the journal after a crash.
    struct ActionState {
        var kind: ActionKind
        var provider: String
        /// Who approved it, for the change request ("proposal 5f2161"); nil when performed unattended.
        var approval: String?
        var report: ActionReport
        var checked: CheckedStep?
        /// The plan's read of the secret, and the data of the version a restore puts back.
        var read: Snapshot?
        var replaced: [String: JSONValue]?
        /// This run's snapshot and the data to write; nil when resumed after the write.
        var prepared: Prepared?
        /// The ownership record before the write, and the write-ahead record made over it.
        var records: (before: Ownership, ahead: Ownership)?
        /// The deploy job the last GitLab answer gave.
        var job: Job?
        var changeRequest: Int?
        var retried: Int?
        /// Before a restore that leaves the deploy to the next deployment: where deployments stood.
        var deployMarker: Int?
        var terms = ActionTerms()
        /// The action's id, marking its change request and notes (kept across a restart and a handover).
        var actionID = ActionState.newID()
        /// Resumed from a journal or a record: what an earlier run posted is looked for before posting.
        var resumed = false

        static func newID() -> String {
            var generator = SystemRandomNumberGenerator()
            return String(generator.next() as UInt64, radix: 16)
        }
    }

    struct Prepared {
        var snap: Snapshot
        var next: Ownership
        var data: [String: JSONValue]
        /// The version the write created, once it happened.
        var written: Int?
    }

    /// Plans the action from the secret as it is; with `apply`, carries it out step by step.
    /// `journaled`: the steps an interrupted run of it recorded (name, detail), to resume from.
    /// `avoid`: subjects whose probes do not show health, never chosen as replacements.
    public func perform(
        _ kind: ActionKind, provider: String, apply: Bool, approval: String? = nil, journaled: [(name: String, detail: String)] = [],
        options: ActionMachine.Options? = nil, avoid: Set<String> = [], terms: ActionTerms = ActionTerms()
    ) async -> ActionReport {
        var executor = self
        executor.logger[metadataKey: "action"] = .string(kind.rawValue)
        executor.logger[metadataKey: "provider"] = .string(provider)
        executor.logger[metadataKey: "proposal"] = approval.map { .string($0) }
        return await executor.performing(
            kind, provider: provider, apply: apply, approval: approval, journaled: journaled, options: options, avoid: avoid,
            terms: terms)
    }

    private func performing(
        _ kind: ActionKind, provider: String, apply: Bool, approval: String?, journaled: [(name: String, detail: String)],
        options: ActionMachine.Options?, avoid: Set<String>, terms: ActionTerms
    ) async -> ActionReport {
        var state = ActionState(
            kind: kind, provider: provider, approval: approval, report: ActionReport(target: target.name, outcome: .nothingToDo("")),
            terms: terms)
        // Closing a change request nothing follows is the loop's, once it has seen the provider healthy.
        if apply, journaled.isEmpty, (try? await recordedPending()) != nil, let earlier = await settlePending(healthy: []) {
            logger.notice("first settled an earlier action: \(earlier.outcome.summary)")
            if case .failed(let why) = earlier.outcome {
                state.report.outcome = .failed("an earlier action recorded in the secret's metadata could not be settled first: \(why)")
                return state.report
            }
        }
        state.resumed = !journaled.isEmpty
        for (name, detail) in journaled {
            switch name {
            case ActionMachine.Step.plan.rawValue:
                state.checked = CheckedStep(detail: detail)
                if let id = state.checked?.action { state.actionID = id }
            case ActionMachine.Step.openChangeRequest.rawValue: state.changeRequest = ExecutionStep.lastNumber(detail)
            case "job-retried": state.retried = ExecutionStep.lastNumber(detail)
            case "deploy-carrier":
                // pipeline, sha, job, then the job's name (which may hold spaces)
                let parts = detail.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count == 4, let pipeline = Int(parts[0]), let job = Int(parts[2]) else { break }
                state.checked?.pipeline = pipeline
                state.checked?.job = job
                state.checked?.jobName = parts[3]
                if parts[1] != "-" { state.checked?.sha = parts[1] }
                state.retried = nil
            default: break
            }
        }
        if kind == .restore, state.changeRequest == nil { state.changeRequest = state.checked?.changeRequest }
        state.report.deploySHA = state.checked?.sha
        var options = options ?? self.options
        // A drill proves the way back too: its restore redeploys at once.
        if terms.drill { options.restoreRedeploy = true }
        let planning = PlanMachine.Setup(
            kind: kind, provider: provider, planner: planner, avoid: avoid, pinned: terms.pinned, apply: apply,
            preflightWhenPlanning: terms.preflightWhenPlanning, canProbe: preflight != nil, restoreRedeploys: options.restoreRedeploy,
            verifies: gateway != nil, target: target.name, secret: "\(target.vault.mount)/\(target.vault.path)")
        var machine = ActionMachine(planning: planning, options: options, journaled: journaled.map(\.name), checks: state.checked?.checks)
        var request = machine.request
        while true {
            switch request {
            case .run(let step): request = machine.completed(step, await run(step, &state))
            case .readCurrent:
                request = await feed(.reconcileWrite, &machine, answered: { $0.answered(current: $1.version, value: $1.value) }) {
                    () async throws(ControlError) in .answer(try await current())
                }
            case .adoptWrite(let version): request = machine.completed(.reconcileWrite, await adoptWrite(version, state))
            case .plan(let plan):
                request = await feed(.plan, &machine, answered: { $0.answered(plan: $1) }) { () async throws(ControlError) in
                    try await carryOut(plan, &state)
                }
                state.report.absorb(machine.findings)
            case .write(let write):
                request = await feed(.write, &machine, answered: { $0.answered(write: $1) }) { () async throws(ControlError) in
                    try await carryOut(write, &state)
                }
            case .deploy(let deploy):
                request = await feed(.redeploy, &machine, answered: { $0.answered(deploy: $1) }) { () async throws(ControlError) in
                    try await carryOut(deploy, &state)
                }
            case .finish(let outcome):
                return finished(outcome, &state, problem: machine.changeRequestProblem, verifies: options.verify)
            }
        }
    }

    /// What a request of the write or the redeploy came to: an answer to the machine, or the step's result.
    enum Reply<Answer> {
        case answer(Answer)
        case result(ActionMachine.Result)
    }

    /// Carries out one request of the write or the redeploy: its answer goes back to the machine,
    /// or, once the machine has named the step's end, what the step came to.
    private func feed<Answer>(
        _ step: ActionMachine.Step, _ machine: inout ActionMachine, answered: (inout ActionMachine, Answer) -> ActionMachine.Request,
        _ carryOut: () async throws(ControlError) -> Reply<Answer>
    ) async -> ActionMachine.Request {
        do throws(ControlError) {
            switch try await carryOut() {
            case .answer(let answer): return answered(&machine, answer)
            case .result(let result): return machine.completed(step, result)
            }
        } catch { return machine.completed(step, Self.result(of: error)) }
    }

    private func finished(_ outcome: ActionOutcome, _ state: inout ActionState, problem: String?, verifies: Bool) -> ActionReport {
        state.report.changeRequest = state.changeRequest
        state.report.changeRequestProblem = problem
        state.report.outcome = outcome
        if outcome == .deployed, verifies { state.report.verified = true }
        if case .notVerified = outcome { state.report.verified = false }
        if outcome == .written, let checked = state.checked, let since = state.deployMarker {
            state.report.awaiting = AwaitedDeployment(
                expect: checked.expect, since: since, changeRequest: state.changeRequest,
                deadline: redeployer.clock.elapsed + (gateway?.settings.nextDeploymentTimeout ?? .zero))
        }
        return state.report
    }

    /// Carries out one step; control-plane errors become the step's result.
    private func run(_ step: ActionMachine.Step, _ state: inout ActionState) async -> ActionMachine.Result {
        do throws(ControlError) {
            switch step {
            case .openChangeRequest: return try await openChangeRequest(&state)
            case .plan, .write, .redeploy, .reconcileWrite: return .failed("step \(step.rawValue) is carried out request by request")
            case .verify: return try await verifyStep(&state)
            case .closeChangeRequest: return try await closeChangeRequest(&state)
            }
        } catch { return Self.result(of: error) }
    }

    /// A control-plane error as the result of the step it ended.
    static func result(of error: ControlError) -> ActionMachine.Result {
        switch error {
        case .refused(let why): .refused(why)
        case .interrupted(let why): .interrupted(why)
        default: .failed(error.description)
        }
    }
}
