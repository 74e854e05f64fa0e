import ControlAPI
import GitLabClient
import Lifecycle
import Logging

/// The redeploy step: carrying the written secret to production while `main` moves. What is done
/// next is ``DeployMachine``'s (within ``ActionMachine``); this file makes the one GitLab request
/// it names and reports the answer, then what the step came to.
extension TargetExecutor {
    func carryOut(_ request: DeployMachine.Request, _ state: inout ActionState) async throws(ControlError) -> Reply<DeployMachine.Answer> {
        guard let checked = state.checked, checked.pipeline != nil else { return .result(.failed("a redeploy without its checked deploy")) }
        let retried: (Int, Int) async throws(ControlError) -> Void = { original, retried throws(ControlError) in
            try await step(.jobRetried(original: original, retried: retried))
        }
        let noted = state
        let downstream: (DownstreamPipeline) async throws(ControlError) -> Void = { found throws(ControlError) in
            try await step(.downstream(found))
            await noteChangeRequest(noted, "The deploy runs in downstream pipeline \(found.label).")
        }
        switch request {
        case .findEarlierRetry:
            guard let pipeline = checked.pipeline, let job = checked.job, let jobName = checked.jobName else {
                return .answer(.earlierRetry(found: false))
            }
            state.job = try await earlierRetry(pipeline: pipeline, job: job, jobName: jobName, retried: state.retried)
            if let owed = state.job { try await retried(job, owed.id) }
            return .answer(.earlierRetry(found: state.job != nil))
        case .look(let startedBeforeWrite):
            do {
                let planned = try await redeployer.preflight(startedBeforeWrite: startedBeforeWrite)
                return .answer(.looked(planned.decision, started: planned.started))
            } catch .refused(let why) { return .answer(.looked(.refuse(why), started: [])) }
        case .announce(let round, let decision):
            logger.notice("deploy, round \(round): \(decision.reason)")
            try await step(.deployDecision(decision.reason))
            await noteChangeRequest(state, "Deploy: \(decision.reason).")
            return .answer(.done)
        case .recordCarrier(let candidate):
            try await recordCarrier(&state, candidate)
            return .answer(.done)
        case .retry(let candidate):
            guard let trigger = candidate.trigger else { return .result(.failed("pipeline #\(candidate.pipeline) has no trigger job")) }
            let pipeline = Pipeline(candidate)
            let original = Job(
                id: trigger.job, name: trigger.name, status: "", isBridge: try await isBridge(trigger.job, pipeline: pipeline.id))
            do {
                let ended = try await redeployer.redeploy(
                    pipeline: pipeline, job: original, logger: logger, stopping: stopping, settled: settled, retried: retried,
                    downstream: downstream)
                state.job = ended
                return .answer(.ended(failed: ended.failure, failureReason: ended.failureReason))
            } catch .refused(let why) { return .answer(.retryRefused(why)) }
        case .awaitStart(let candidate):
            try await redeployer.setExpedited(logger: logger, settled: settled)
            state.job = try await redeployer.awaitStart(of: Pipeline(candidate), logger: logger, stopping: stopping)
            return .answer(state.job == nil ? .notStarted(within: "\(redeployer.gitlab.settings.newerDeployTimeout)") : .started)
        case .follow(let candidate, let carries):
            // A deploy waited for is the decided pipeline's trigger; the action's own, the job the last answer gave.
            let waited = candidate.trigger.map { Job(id: $0.job, name: $0.name, status: $0.status, isBridge: $0.isBridge) }
            guard let followed = carries ? state.job : waited else {
                return .result(.failed("no job to follow in pipeline #\(candidate.pipeline)"))
            }
            let ended = try await redeployer.follow(
                followed, pipeline: Pipeline(candidate), logger: logger, stopping: stopping,
                downstream: carries ? downstream : { _ throws(ControlError) in })
            if !carries { logger.notice("the deploy waited for ended: \(ended.status); deciding again") }
            state.job = ended
            return .answer(.ended(failed: ended.failure, failureReason: ended.failureReason))
        case .finish(.ended(let candidate)):
            guard let job = state.job else { return .result(.failed("the deploy ended without a job")) }
            return .result(try await deployed(job, in: Pipeline(candidate), &state))
        case .finish(.notStarted(let why)):
            await noteChangeRequest(state, "Not deployed: \(why).")
            return .result(.notVerified(why))
        case .finish(.retryRefused(let why)):
            // Refused, and reading shows no try of it (``GitLab/retryOnce``): no deploy started.
            guard let prepared = state.prepared, let version = prepared.written else {
                return .result(.refused(why + "; the secret holds the change but is not deployed: redeploy by hand"))
            }
            try await rollBack(to: prepared.snap, over: version)
            // Put back as it was: with nothing failed over before, the expedited strategy goes too.
            if prepared.snap.ownership.providers.isEmpty { try await redeployer.clearExpedited(logger: logger) }
            return .result(.refused(why + "; the secret was put back"))
        case .finish(.refused(let why)): throw .refused(why)
        case .finish(.gaveUp(let why)): throw .unavailable(why)
        }
    }

    /// The deploy that carries the write ended: the record settled, the expedited strategy let go
    /// when nothing is failed over any more, journaled and noted.
    private func deployed(_ job: Job, in pipeline: Pipeline, _ state: inout ActionState) async throws(ControlError) -> ActionMachine.Result
    {
        state.report.downstream = job.downstream
        state.report.deploySHA = pipeline.sha.isEmpty ? state.report.deploySHA : pipeline.sha
        let snap = try await snapshot()
        if snap.recorded.pending != nil { try await record(snap.ownership.settled) }
        if snap.ownership.providers.isEmpty, job.failure == nil { try await redeployer.clearExpedited(logger: logger) }
        try await step(.deployed(status: job.failure.map { "failed: \($0)" } ?? job.status))
        let deploy = job.downstream.map { "downstream pipeline \($0.label)" } ?? "deploy job #\(job.id)"
        await noteChangeRequest(
            state,
            "The \(deploy) of pipeline #\(pipeline.id)\(pipeline.sha.isEmpty ? "" : " at \(pipeline.sha)") "
                + (job.failure.map { "failed: \($0)" } ?? "succeeded") + ".")
        return job.failure.map { .deployFailed(status: $0) } ?? .done
    }

    /// Before a later round retries another job than the one recorded (the checked job's pipeline
    /// moved on, or its newer deploy failed), records that job as the one the write is carried by —
    /// in the secret's metadata and in the journal — so whoever finishes the action follows this
    /// retry rather than making another (found by `simulate`, seed 1557: a change of leader after
    /// such a retry deployed a second time).
    private func recordCarrier(_ state: inout ActionState, _ candidate: DeployFacts.Candidate) async throws(ControlError) {
        let (pipeline, job, jobName) = (Pipeline(candidate), candidate.trigger?.job ?? 0, candidate.trigger?.name ?? "")
        var owned = try await recordedOwnership()
        if var pending = owned.pending {
            (pending.pipeline, pending.job, pending.jobName) = (pipeline.id, job, jobName)
            owned.pending = pending
            try await record(owned)
        }
        try await step(.deployCarrier(pipeline: pipeline.id, sha: pipeline.sha.isEmpty ? "-" : pipeline.sha, job: job, jobName: jobName))
        state.checked?.pipeline = pipeline.id
        state.checked?.job = job
        state.checked?.jobName = jobName
        if !pipeline.sha.isEmpty {
            state.checked?.sha = pipeline.sha
            state.report.deploySHA = pipeline.sha
        }
        state.retried = nil
    }

    /// The retry an interrupted action made: journaled, or a newer try of the checked job (its
    /// journal entry, or its answer, was lost). nil when none was made.
    private func earlierRetry(pipeline: Int, job: Int, jobName: String, retried: Int?) async throws(ControlError) -> Job? {
        let gitlab = redeployer.gitlab
        if let retried {
            let bridge = try await isBridge(job, pipeline: pipeline)
            return try await gitlab.job(Job(id: retried, name: jobName, status: "", isBridge: bridge), pipeline: pipeline)
        }
        guard let newer = try await gitlab.jobs(pipeline: pipeline).filter({ $0.name == jobName && $0.id > job }).max(by: { $0.id < $1.id })
        else { return nil }
        logger.notice("job #\(job) was already retried as #\(newer.id) before the restart: following it")
        return newer
    }
}

extension Pipeline {
    init(_ candidate: DeployFacts.Candidate) { self.init(id: candidate.pipeline, sha: candidate.sha, status: "") }
}

extension Job {
    /// Why its deploy did not succeed; nil when it did.
    var failure: String? { if case .failed(let why) = progress { why } else { nil } }
}

extension CheckedStep {
    /// What the action machine needs of the checks.
    var checks: ActionMachine.Checks {
        let trigger = job.flatMap { job in jobName.map { DeployFacts.Trigger(job: job, name: $0, status: "") } }
        return ActionMachine.Checks(
            secretVersion: secretVersion, carrier: pipeline.map { DeployFacts.Candidate(pipeline: $0, sha: sha ?? "", trigger: trigger) },
            startedBeforeWrite: started.map(Set.init), intended: intended)
    }
}
