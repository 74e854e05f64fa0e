import ControlAPI
import GitLabClient
import Lifecycle
import Logging

/// The redeploy step: carrying the written secret to production while `main` moves. What is done
/// next is ``DeployMachine``'s; this file makes the one GitLab request it names and reports the answer.
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

    /// `resumed` (nothing prepared by this run): the retry an earlier run made (journaled, or a
    /// newer try of the checked job) is followed rather than deciding afresh.
    func carry(
        _ state: inout ActionState, retried: @escaping (Int, Int) async throws(ControlError) -> Void,
        downstream: @escaping (DownstreamPipeline) async throws(ControlError) -> Void
    ) async throws(ControlError) -> Carried {
        let checked = state.checked
        let carrier = checked?.pipeline.map { pipeline in
            DeployFacts.Candidate(
                pipeline: pipeline, sha: checked?.sha ?? "",
                trigger: checked?.job.map { DeployFacts.Trigger(job: $0, name: checked?.jobName ?? "", status: "") })
        }
        var machine = DeployMachine(
            carrier: carrier, resumed: state.prepared == nil && checked?.jobName != nil, startedBeforeWrite: checked?.started.map(Set.init))
        var job: Job?  // what the last answer gave
        while true {
            let answer: DeployMachine.Answer
            switch machine.request {
            case .findEarlierRetry:
                guard let carrier = machine.carrier, let jobName = checked?.jobName else { return .retryRefused("no carrier job") }
                job = try await earlierRetry(pipeline: carrier.pipeline, job: carrier.job, jobName: jobName, retried: state.retried)
                if let job { try await retried(carrier.job, job.id) }
                answer = .earlierRetry(found: job != nil)
            case .look(let startedBeforeWrite):
                do {
                    let planned = try await redeployer.preflight(startedBeforeWrite: startedBeforeWrite)
                    answer = .looked(planned.decision, started: planned.started)
                } catch .refused(let why) { answer = .looked(.refuse(why), started: []) }
            case .announce(let round, let decision):
                logger.notice("deploy, round \(round): \(decision.reason)")
                try await step(.deployDecision(decision.reason))
                await noteChangeRequest(state, "Deploy: \(decision.reason).")
                answer = .done
            case .recordCarrier(let candidate):
                try await recordCarrier(&state, candidate)
                answer = .done
            case .retry(let candidate):
                let trigger = candidate.trigger!  // the machine retries only a pipeline's trigger
                let pipeline = Pipeline(candidate)
                let original = Job(
                    id: trigger.job, name: trigger.name, status: "", isBridge: try await isBridge(trigger.job, pipeline: pipeline.id))
                do {
                    let ended = try await redeployer.redeploy(
                        pipeline: pipeline, job: original, logger: logger, stopping: stopping, settled: settled, retried: retried,
                        downstream: downstream)
                    job = ended
                    answer = .ended(failed: ended.failure, failureReason: ended.failureReason)
                } catch .refused(let why) { answer = .retryRefused(why) }
            case .awaitStart(let candidate):
                try await redeployer.setExpedited(logger: logger, settled: settled)
                job = try await redeployer.awaitStart(of: Pipeline(candidate), logger: logger, stopping: stopping)
                answer = job == nil ? .notStarted(within: "\(redeployer.gitlab.settings.newerDeployTimeout)") : .started
            case .follow(let candidate, let carries):
                // A deploy waited for is the decided pipeline's trigger; the action's own, the job the last answer gave.
                let waited = candidate.trigger.map { Job(id: $0.job, name: $0.name, status: $0.status, isBridge: $0.isBridge) }
                guard let followed = carries ? job : waited else {
                    throw .unavailable("no job to follow in pipeline #\(candidate.pipeline)")
                }
                let ended = try await redeployer.follow(
                    followed, pipeline: Pipeline(candidate), logger: logger, stopping: stopping,
                    downstream: carries ? downstream : { _ throws(ControlError) in })
                if !carries { logger.notice("the deploy waited for ended: \(ended.status); deciding again") }
                job = ended
                answer = .ended(failed: ended.failure, failureReason: ended.failureReason)
            case .finish(let outcome):
                switch outcome {
                case .ended(let candidate):
                    guard let job else { throw .unavailable("the deploy ended without a job") }
                    return .ended(job, pipeline: Pipeline(candidate))
                case .notStarted(let why): return .notStarted(why)
                case .retryRefused(let why): return .retryRefused(why)
                case .refused(let why): throw .refused(why)
                case .gaveUp(let why): throw .unavailable(why)
                }
            }
            machine.answered(answer)
        }
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
