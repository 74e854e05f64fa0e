/// The two things the agent does to a target.
public enum ActionKind: String, Sendable, Equatable { case failover, restore }

/// How a target acts: page a person with a one-command approval, or act at once.
public enum ActionMode: String, Sendable, Equatable { case propose, perform }

/// One action's lifecycle, pure: which step comes next, from the steps already done (as the
/// journal records them) and the result of the last one. The executor runs the step it is given,
/// journals it, and feeds the result back; after a crash or a handover the same machine is rebuilt
/// from the journaled steps and asked again, so no step is done twice and none is lost.
///
/// A failover: plan → change request → write → redeploy → verify.
/// A restore: plan → write → [redeploy → verify] → close the change request; without a redeploy
/// (the runbook's restore) the next regular deployment picks the change up and a running agent
/// verifies it then.
public struct ActionLifecycle: Sendable, Equatable {
    /// A step, named as the journal records it once done.
    public enum Step: String, Sendable, CaseIterable {
        /// Read the secret, plan, validate, check the deploy can happen (`checked` in the journal).
        case plan = "checked"
        case openChangeRequest = "change-request"
        /// Write-ahead record, check-and-set write.
        case write = "secret-written"
        /// Retry the latest pipeline's deploy job and follow it (`job-retried` is journaled inside).
        case redeploy = "deployed"
        /// Poll the gateway until it serves the planned defaults.
        case verify = "verified"
        case closeChangeRequest = "change-request-closed"
        /// After a crash between `plan` and `write`: find out whether the write happened.
        case reconcileWrite = "reconciled"
    }

    /// What the configuration asks for.
    public struct Options: Sendable, Equatable {
        public var changeRequest: Bool
        public var verify: Bool
        /// Restores redeploy at once (`restore_redeploy: true`), or wait for the next deployment.
        public var restoreRedeploy: Bool
        /// Read–plan–write rounds before giving up on concurrent edits.
        public var casAttempts: Int

        public init(changeRequest: Bool = false, verify: Bool = false, restoreRedeploy: Bool = false, casAttempts: Int = 3) {
            self.changeRequest = changeRequest
            self.verify = verify
            self.restoreRedeploy = restoreRedeploy
            self.casAttempts = casAttempts
        }
    }

    /// What a step came to, as the executor reports it.
    public enum Result: Sendable, Equatable {
        case done
        /// `plan`: nothing to change.
        case nothingToDo(String)
        /// `write`: the secret changed since it was read.
        case conflict
        /// Not done, and nothing was left changed.
        case refused(String)
        /// Not done; what is recorded as under way is settled again later.
        case failed(String)
        /// Shutdown while waiting; what is owed stays recorded.
        case interrupted(String)
        /// `redeploy`: the deploy job ended other than `success`.
        case deployFailed(status: String)
        /// `verify`: the gateway did not serve the planned defaults in time.
        case notVerified(String)
        /// `reconcileWrite`: the write had happened / never happened / someone else wrote since.
        case writeFound, writeMissing, writeSuperseded(String)
    }

    public enum Next: Sendable, Equatable {
        case run(Step)
        case finish(ActionOutcome)
    }

    public let kind: ActionKind
    public let options: Options
    /// Steps done, in order (as journaled).
    public private(set) var done: [Step]
    /// Check-and-set conflicts met so far.
    public private(set) var conflicts = 0
    /// A change request could not be opened or closed: paged, never blocking.
    public private(set) var changeRequestProblem: String?
    /// Rebuilt from a journal that holds the checks but not the write: the write may have landed.
    private var needsReconcile: Bool

    public init(kind: ActionKind, options: Options, journaled: [String] = []) {
        self.kind = kind
        self.options = options
        done = []
        for step in journaled.compactMap(Step.init(rawValue:)) where step != .reconcileWrite && !done.contains(step) { done.append(step) }
        needsReconcile = done.contains(.plan) && !done.contains(.write)
    }

    /// The steps of this kind of action, in order, as the options shape them.
    public var sequence: [Step] {
        switch kind {
        case .failover:
            [.plan] + (options.changeRequest ? [.openChangeRequest] : []) + [.write, .redeploy] + (options.verify ? [.verify] : [])
        case .restore:
            [.plan, .write] + (options.restoreRedeploy ? [.redeploy] + (options.verify ? [.verify] : []) : [])
                + (options.changeRequest ? [.closeChangeRequest] : [])
        }
    }

    /// The next step. After a crash between the checks and the write, whether the write happened
    /// is found out first.
    public var next: Next {
        if needsReconcile { return .run(.reconcileWrite) }
        guard let step = sequence.first(where: { !done.contains($0) }) else { return .finish(finalOutcome) }
        return .run(step)
    }

    private var finalOutcome: ActionOutcome { kind == .restore && !options.restoreRedeploy ? .written : .deployed }

    /// Feeds back what `step` came to; returns what comes next.
    public mutating func completed(_ step: Step, _ result: Result) -> Next {
        switch (step, result) {
        case (.reconcileWrite, .writeFound):
            needsReconcile = false
            done.append(.write)
        case (.reconcileWrite, .writeMissing):
            // Nothing was written: plan again from the secret as it is (a change request stays).
            needsReconcile = false
            done.removeAll { $0 == .plan }
        case (.reconcileWrite, .writeSuperseded(let why)):
            return .finish(.abandoned(why))
        case (.write, .conflict):
            conflicts += 1
            guard conflicts < options.casAttempts else {
                return .finish(
                    .refused(
                        "the secret kept changing under the agent (\(options.casAttempts) check-and-set conflicts); nothing was written"))
            }
            done.removeAll { $0 == .plan }
        case (.openChangeRequest, .failed(let why)), (.closeChangeRequest, .failed(let why)):
            // Traceability never blocks the failover: page it and go on.
            changeRequestProblem = why
            done.append(step)
        case (_, .done):
            done.append(step)
        case (.plan, .nothingToDo(let why)):
            return .finish(.nothingToDo(why))
        case (_, .refused(let why)):
            return .finish(.refused(why))
        case (_, .interrupted(let why)):
            return .finish(.interrupted(why))
        case (.redeploy, .deployFailed(let status)):
            return .finish(.deployFailed(status: status))
        case (.verify, .notVerified(let why)):
            return .finish(.notVerified(why))
        case (_, .failed(let why)):
            return .finish(.failed(why))
        default:
            return .finish(.failed("step \(step.rawValue) reported \(result), which it cannot"))
        }
        return next
    }
}
