import ControlAPI
import GitLabClient
import Lifecycle
import Logging

/// The redeploy step: carrying the written secret to production while `main` moves. Each round
/// reads what production runs and what is on its way and follows ``DeployDecision`` — retry the
/// production pipeline's trigger, follow a newer deploy that reads the secret when it starts, or
/// wait for a newer deploy that read it before the write and then retry that one — until a deploy
/// that carries the write has ended, at most four rounds.
extension TargetExecutor {
    /// How carrying the write ended.
    enum Carried {
        /// The deploy that carries the write ended (its progress says how); in `pipeline`.
        case ended(Job, pipeline: Pipeline)
        /// A newer pipeline's deploy, the only one that could carry it, did not start in time.
        case notStarted(String)
        /// The first retry was refused and no try of the job exists: no deploy started.
        case retryRefused(String)
    }

    /// `resumed`: after a restart or a handover, the retry an earlier run made (journaled, or a
    /// newer try of the checked job) is followed rather than deciding afresh.
    func carry(
        _ state: inout ActionState, retried: @escaping (Int, Int) async throws(ControlError) -> Void,
        downstream: @escaping (DownstreamPipeline) async throws(ControlError) -> Void
    ) async throws(ControlError) -> Carried {
        let gitlab = redeployer.gitlab
        if state.prepared == nil, let checked = state.checked, let pipelineID = checked.pipeline, let jobID = checked.job,
            let jobName = checked.jobName
        {
            let pipeline = Pipeline(id: pipelineID, sha: checked.sha ?? "", status: "")
            if let owed = try await earlierRetry(pipeline: pipelineID, job: jobID, jobName: jobName, retried: state.retried) {
                try await retried(jobID, owed.id)
                return .ended(try await follow(owed, pipeline, downstream), pipeline: pipeline)
            }
        }
        // Deploys that had started when the checks were made may have read the old secret; one that
        // starts later reads the written one. Resumed without that record, whatever has started by
        // the first look is taken to have read the old secret.
        var startedBeforeWrite = state.checked?.started.map(Set.init)
        for round in 1...4 {
            let planned: PlannedDeploy
            do { planned = try await redeployer.preflight(startedBeforeWrite: startedBeforeWrite) } catch .refused(let why) {
                throw .refused(why + "; the secret holds the change, and no deploy can carry it now")
            }
            // Whatever had started by the first look after the write may have read the old secret.
            startedBeforeWrite = startedBeforeWrite ?? planned.started
            let why = planned.decision.reason
            logger.notice("deploy, round \(round): \(why)")
            try await step(.deployDecision(why))
            await noteChangeRequest(state, "Deploy: \(why).")
            let pipeline = planned.pipeline
            switch planned.decision {
            case .retry:
                guard let job = planned.job else { throw .refused("pipeline #\(pipeline.id) has no production trigger job to retry") }
                if state.checked?.pipeline != pipeline.id || state.checked?.job != job.id {
                    try await recordCarrier(&state, pipeline: pipeline, job: job.id, jobName: job.name)
                }
                let original = Job(id: job.id, name: job.name, status: "", isBridge: try await isBridge(job.id, pipeline: pipeline.id))
                let ended: Job
                do {
                    ended = try await redeployer.redeploy(
                        pipeline: pipeline, job: original, logger: logger, stopping: stopping, settled: settled, retried: retried,
                        downstream: downstream)
                } catch .refused(let why) {
                    if why.lowercased().contains("outdated") {
                        logger.notice("GitLab refused the retry as an outdated deployment: production has moved on; deciding again")
                        continue
                    }
                    // Refused, and reading shows no try of it: no deploy started (``GitLab/retryOnce``).
                    if round == 1 { return .retryRefused(why) }
                    throw .refused(why + "; the secret holds the change")
                }
                if ended.failureReason == "forward_deployment_failure" {
                    logger.notice("the retried job #\(ended.id) was failed as an outdated deployment: deciding again")
                    continue
                }
                return .ended(ended, pipeline: pipeline)
            case .follow:
                try await redeployer.setExpedited(logger: logger, settled: settled)
                guard let started = try await redeployer.awaitStart(of: pipeline, logger: logger, stopping: stopping) else {
                    return .notStarted(
                        "the production deploy of the newer pipeline #\(pipeline.id) did not start within "
                            + "\(gitlab.settings.newerDeployTimeout): the secret holds the change, and that deploy (or the next one) "
                            + "carries it when it runs; a retry of an older pipeline would race it")
                }
                let ended = try await follow(started, pipeline, downstream)
                guard case .failed(let failure) = ended.progress else { return .ended(ended, pipeline: pipeline) }
                logger.notice("the followed deploy failed (\(failure)): deciding again")
            case .wait:
                guard let job = planned.job else { continue }
                let ended = try await follow(job, pipeline) { _ throws(ControlError) in }
                logger.notice("the deploy waited for ended: \(ended.status); deciding again")
            case .refuse:
                continue  // preflight throws instead
            }
        }
        throw .unavailable("no deploy carried the change after four rounds of deciding; the secret holds it")
    }

    /// Before a later round retries another job than the one recorded (the checked job's pipeline
    /// moved on, or its newer deploy failed), records that job as the one the write is carried by —
    /// in the secret's metadata and in the journal — so whoever finishes the action follows this
    /// retry rather than making another (found by `simulate`, seed 1557: a change of leader after
    /// such a retry deployed a second time).
    private func recordCarrier(_ state: inout ActionState, pipeline: Pipeline, job: Int, jobName: String) async throws(ControlError) {
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

    private func follow(
        _ job: Job, _ pipeline: Pipeline, _ downstream: @escaping (DownstreamPipeline) async throws(ControlError) -> Void
    ) async throws(ControlError) -> Job {
        try await redeployer.follow(job, pipeline: pipeline, logger: logger, stopping: stopping, downstream: downstream)
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
