import ControlAPI
import GatewayClient
import GitLabClient
import Lifecycle
import Logging
import Selection
import VaultClient

/// Runs one action through its ``ActionLifecycle``: asks the machine for the next step, carries it
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
        /// This run's snapshot and the data to write; nil when resumed after the write.
        var prepared: Prepared?
        var changeRequest: Int?
        var retried: Int?
        /// Before a restore that leaves the deploy to the next deployment: where deployments stood.
        var deployMarker: Int?
        /// Subjects never chosen as replacements: unhealthy by the health machine, or failing their pre-flight probe.
        var avoid: Set<String> = []
        var terms = ActionTerms()
        /// The action's id, marking its change request and notes (kept across a restart and a handover).
        var actionID = ActionState.newID()
        /// Resumed from a journal or a record: what an earlier run posted is looked for before posting.
        var resumed = false
        /// A failover's planner, limited to the catalog the deployed gateway serves.
        var planner: Planner?

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
        options: ActionLifecycle.Options? = nil, avoid: Set<String> = [], terms: ActionTerms = ActionTerms()
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
        options: ActionLifecycle.Options?, avoid: Set<String>, terms: ActionTerms
    ) async -> ActionReport {
        var state = ActionState(
            kind: kind, provider: provider, approval: approval, report: ActionReport(target: target.name, outcome: .nothingToDo("")),
            avoid: avoid, terms: terms)
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
            case ActionLifecycle.Step.plan.rawValue:
                state.checked = CheckedStep(detail: detail)
                if let id = state.checked?.action { state.actionID = id }
            case ActionLifecycle.Step.openChangeRequest.rawValue: state.changeRequest = ExecutionStep.lastNumber(detail)
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
        var lifecycle = ActionLifecycle(kind: kind, options: options, journaled: journaled.map(\.name))
        var next = lifecycle.next
        while case .run(let step) = next {
            let result = await run(step, &state, apply: apply)
            if !apply, step == .plan, result == .done {
                state.report.outcome = .planned
                return state.report
            }
            next = lifecycle.completed(step, result)
        }
        guard case .finish(let outcome) = next else { return state.report }
        state.report.changeRequest = state.changeRequest
        state.report.changeRequestProblem = lifecycle.changeRequestProblem
        state.report.outcome = outcome
        if outcome == .deployed, options.verify { state.report.verified = true }
        if case .notVerified = outcome { state.report.verified = false }
        if outcome == .written, let checked = state.checked, let since = state.deployMarker {
            state.report.awaiting = AwaitedDeployment(
                expect: checked.expect, since: since, changeRequest: state.changeRequest,
                deadline: redeployer.clock.elapsed + (gateway?.settings.nextDeploymentTimeout ?? .zero))
        }
        return state.report
    }

    /// Carries out one step; control-plane errors become the step's result.
    private func run(_ step: ActionLifecycle.Step, _ state: inout ActionState, apply: Bool) async -> ActionLifecycle.Result {
        do throws(ControlError) {
            switch step {
            case .plan: return try await planStep(&state, apply: apply)
            case .openChangeRequest: return try await openChangeRequest(&state)
            case .write: return try await writeStep(&state)
            case .reconcileWrite: return try await reconcileWrite(&state)
            case .redeploy: return try await redeployStep(&state)
            case .verify: return try await verifyStep(&state)
            case .closeChangeRequest: return try await closeChangeRequest(&state)
            }
        } catch {
            switch error {
            case .refused(let why): return .refused(why)
            case .interrupted(let why): return .interrupted(why)
            default:
                // Opening or closing a change request never blocks the action.
                return .failed(error.description)
            }
        }
    }
}
