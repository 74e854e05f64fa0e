/// The two things the agent does to a target.
public enum ActionKind: String, Sendable, Equatable { case failover, restore }

/// How a target acts: page a person with a one-command approval, or act at once.
public enum ActionMode: String, Sendable, Equatable { case propose, perform }

/// One action — a failover or a restore of a target — pure: answers in, the next request out.
/// It decides the order of the steps from those already done (as the journal records them), the
/// plan and whether it may be carried out (``PlanMachine``), the check-and-set write and how a lost answer of it is settled (``SecretWrite``), and which deploy
/// carries the write while `main` moves (``DeployMachine``). The executor makes the request it is
/// given, journals it, and feeds the answer back; after a crash or a handover the same machine is
/// rebuilt from the journaled steps and asked again, so no step is done twice and none is lost.
///
/// A failover: plan → change request → write → redeploy → verify.
/// A restore: plan → write → [redeploy → verify] → close the change request; without a redeploy
/// (the runbook's restore) the next regular deployment picks the change up and a running agent
/// verifies it then.
public struct ActionMachine: Sendable {
    /// A step, named as the journal records it once done.
    public enum Step: String, Sendable, CaseIterable {
        /// Read the secret, plan, validate, check the deploy can happen (`checked` in the journal),
        /// request by request (``PlanMachine``).
        case plan = "checked"
        case openChangeRequest = "change-request"
        /// Write-ahead record, check-and-set write.
        case write = "secret-written"
        /// Carry the write to production, round by round (``DeployMachine``; `job-retried` is journaled inside).
        case redeploy = "deployed"
        /// Poll the gateway until it serves the planned defaults.
        case verify = "verified"
        case closeChangeRequest = "change-request-closed"
        /// After a crash between `plan` and `write`, the write found landed (``Request/readCurrent``): owned as written.
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

    /// What the checks found that the write and the redeploy need (journaled with them).
    public struct Checks: Sendable, Equatable {
        /// The secret's version read, written over with check-and-set.
        public var secretVersion: Int
        /// The pipeline and trigger job checked to carry the write; nil when nothing redeploys.
        public var carrier: DeployFacts.Candidate?
        /// The pipelines whose production deploy had started when the checks were made.
        public var startedBeforeWrite: Set<Int>?
        /// What the configured key is to hold once written ("" when removed).
        public var intended: String

        public init(secretVersion: Int, carrier: DeployFacts.Candidate?, startedBeforeWrite: Set<Int>?, intended: String) {
            (self.secretVersion, self.carrier, self.startedBeforeWrite, self.intended) = (
                secretVersion, carrier, startedBeforeWrite, intended
            )
        }
    }

    /// What a step came to, as the executor reports it.
    public enum Result: Sendable, Equatable {
        case done
        /// `plan`: checked, and the write may follow.
        case checked(Checks)
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
    }

    /// What the executor does next.
    public enum Request: Sendable, Equatable {
        /// Carry out this step and report its result (``completed(_:_:)``).
        case run(Step)
        /// The plan step: its next request, answered with ``answered(plan:)``; once finished, the step's result.
        case plan(PlanMachine.Request)
        /// The write step: the check-and-set write's next request, answered with ``answered(write:)``;
        /// once it has landed, conflicted or become unknown, the step's result.
        case write(SecretWrite.Request)
        /// The redeploy step: carrying the write to production, answered with ``answered(deploy:)``;
        /// once finished, the step's result.
        case deploy(DeployMachine.Request)
        /// After a crash between the checks and the write: read the secret's version and the
        /// configured key's value, answered with ``answered(current:value:)``.
        case readCurrent
        /// The write had landed, as `version`: own it as written (the `reconcileWrite` step).
        case adoptWrite(version: Int)
        case finish(ActionOutcome)
    }

    /// What the action is and what planning it may do.
    public let planning: PlanMachine.Setup
    public var kind: ActionKind { planning.kind }
    public let options: Options
    /// Steps done, in order (as journaled).
    public private(set) var done: [Step]
    /// Check-and-set conflicts met so far.
    public private(set) var conflicts = 0
    /// A change request could not be opened or closed: paged, never blocking.
    public private(set) var changeRequestProblem: String?
    /// Rebuilt from a journal that holds the checks but not the write: the write may have landed.
    private var needsReconcile: Bool
    /// What the last checks found.
    public private(set) var checks: Checks?
    /// The plan round under way, and what earlier rounds found.
    private var planRound: PlanMachine?
    private var found = PlanMachine.Findings()
    /// Subjects never chosen as replacements; a replacement that failed its pre-flight stays avoided in later rounds.
    private var avoid: Set<String>
    private var writing: SecretWrite?
    private var deploying: DeployMachine?
    /// This run made the write (else an earlier one did, whose retry is looked for first).
    private var wroteHere = false
    /// Ended by an answer: out of turn, or a write someone else superseded.
    private var ended: ActionOutcome?
    /// The write found landed after a crash, as its version, to own.
    private var landed: Int?

    /// `journaled`: the names of the steps an interrupted run of it recorded; `checks`: what its
    /// journaled checks found.
    public init(planning: PlanMachine.Setup, options: Options, journaled: [String] = [], checks: Checks? = nil) {
        self.planning = planning
        avoid = planning.avoid
        self.options = options
        self.checks = checks
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

    /// The request to make now. After a crash between the checks and the write, whether the write
    /// happened is found out first.
    public var request: Request {
        if let ended { return .finish(ended) }
        if needsReconcile { return landed.map { .adoptWrite(version: $0) } ?? .readCurrent }
        guard let step = sequence.first(where: { !done.contains($0) }) else { return .finish(finalOutcome) }
        switch step {
        case .plan: return .plan(currentPlan.request)
        case .write:
            guard let write = currentWrite else { return .finish(.failed("a write without its checks")) }
            return .write(write.request)
        case .redeploy: return .deploy(currentDeploy.request)
        default: return .run(step)
        }
    }

    /// What the plan rounds found, for the report: every round's warnings and pre-flight results,
    /// the last round's plan and checks.
    public var findings: PlanMachine.Findings { planRound.map { found.merged($0.findings) } ?? found }

    /// The plan round under way: a new one avoids what earlier rounds found failing.
    private var currentPlan: PlanMachine {
        if let planRound { return planRound }
        var setup = planning
        setup.avoid = avoid
        return PlanMachine(setup)
    }

    /// Feeds back what the plan's current request came to.
    @discardableResult
    public mutating func answered(plan answer: PlanMachine.Answer) -> Request {
        guard case .plan = request else { return endOutOfTurn("the plan was answered \(answer)") }
        var round = currentPlan
        round.answered(answer)
        planRound = round
        return request
    }

    /// The write under way: over the version the last checks read.
    private var currentWrite: SecretWrite? { writing ?? checks.map { SecretWrite(over: $0.secretVersion) } }

    private var currentDeploy: DeployMachine {
        deploying ?? DeployMachine(carrier: checks?.carrier, resumed: !wroteHere, startedBeforeWrite: checks?.startedBeforeWrite)
    }

    /// Feeds back what the write's current request came to.
    @discardableResult
    public mutating func answered(write answer: SecretWrite.Answer) -> Request {
        guard case .write = request, var write = currentWrite else { return endOutOfTurn("the write was answered \(answer)") }
        write.answered(answer)
        writing = write
        return request
    }

    /// Feeds back what the redeploy's current request came to.
    @discardableResult
    public mutating func answered(deploy answer: DeployMachine.Answer) -> Request {
        guard case .deploy = request else { return endOutOfTurn("the redeploy was answered \(answer)") }
        var deploy = currentDeploy
        deploy.answered(answer)
        deploying = deploy
        return request
    }

    /// Feeds back the secret as read after a crash between the checks and the write: it holds
    /// what the checks meant to write (the write landed: own it), or someone else wrote since
    /// (abandoned), or the write never happened (plan again from the secret as it is; a change
    /// request stays).
    @discardableResult
    public mutating func answered(current version: Int, value: String?) -> Request {
        guard request == .readCurrent else { return endOutOfTurn("the secret read back as version \(version)") }
        guard let checks else {
            needsReconcile = false
            done.removeAll { $0 == .plan }
            return request
        }
        if (value ?? "") == checks.intended {
            landed = version
        } else if version != checks.secretVersion {
            ended = .abandoned("the secret changed since (version \(checks.secretVersion) → \(version)); not carried out")
        } else {
            needsReconcile = false
            done.removeAll { $0 == .plan }
        }
        return request
    }

    /// An answer out of turn ends the action as failed, and it stays ended.
    private mutating func endOutOfTurn(_ what: String) -> Request {
        ended = ended ?? .failed("\(what) out of turn")
        return request
    }

    private var finalOutcome: ActionOutcome { kind == .restore && !options.restoreRedeploy ? .written : .deployed }

    /// Feeds back what `step` came to (the write and the redeploy: once their last request is
    /// made); returns what comes next.
    @discardableResult
    public mutating func completed(_ step: Step, _ result: Result) -> Request {
        if step == .plan, let planRound {
            found = found.merged(planRound.findings)
            avoid = planRound.avoid
            self.planRound = nil
        }
        if step == .write || step == .plan { writing = nil }
        if step == .redeploy || step == .plan { deploying = nil }
        switch (step, result) {
        case (.plan, .checked(let checked)):
            checks = checked
            done.append(step)
        case (.plan, .done) where !planning.apply:
            return .finish(.planned)
        case (.write, .done):
            wroteHere = true
            done.append(step)
        case (.reconcileWrite, .done):
            (needsReconcile, landed) = (false, nil)
            done.append(.write)
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
        return request
    }
}
