import ControlAPI
import Lifecycle
import Logging
import Timekeeping

/// Carries a written override to production: retries the production trigger job of the pipeline
/// production runs, or follows a newer pipeline's deploy, as ``DeployDecision`` says — never an
/// image older than production's, never code nobody released.
public struct Redeployer: Sendable {
    public let gitlab: GitLab
    /// Who holds the expedited strategy while it is set (the target's name, ``ExpeditedMark``).
    public let holder: String
    public static let expeditedVariable = "RUNWAY_DEPLOYMENT_STRATEGY"
    /// What following a deploy (and waiting for the next one) waits on.
    public let clock: any AgentClock

    public init(gitlab: GitLab, holder: String = "failover-agent", clock: any AgentClock) {
        self.gitlab = gitlab
        self.holder = holder
        self.clock = clock
    }

    /// How a write would reach production now (``DeployDecision``), read without a write.
    /// Refuses, touching nothing, when no deploy can carry it (what production runs is unknown,
    /// the branch head has no pipeline yet, `deploy_job` matches more than one job).
    /// `startedBeforeWrite`: after the write, the pipelines whose deploy had started by then.
    public func preflight(startedBeforeWrite: Set<Int>? = nil) async throws(ControlError) -> PlannedDeploy {
        let facts = try await gitlab.deployFacts()
        let decision = DeployDecision.decide(facts, startedBeforeWrite: startedBeforeWrite)
        guard let candidate = decision.candidate else { throw .refused(decision.reason) }
        let job = candidate.trigger.map { Job(id: $0.job, name: $0.name, status: $0.status, isBridge: $0.isBridge) }
        return PlannedDeploy(
            decision: decision, pipeline: Pipeline(id: candidate.pipeline, sha: candidate.sha, status: ""), job: job,
            started: facts.started)
    }

    /// Waits (every `poll_interval`, at most `newer_deploy_timeout`) for the production trigger job
    /// of a newer pipeline to start; returns it then, nil when it did not start in time.
    public func awaitStart(
        of pipeline: Pipeline, logger: Logger, stopping: @Sendable () -> Bool = { false }
    ) async throws(ControlError) -> Job? {
        let deadline = clock.elapsed + gitlab.settings.newerDeployTimeout
        while true {
            let job: Job?
            do { job = try await gitlab.deployJob(pipeline: pipeline.id) } catch .refused(let why) where why.hasPrefix("no job") {
                job = nil
            }
            if let job, DeployFacts.Candidate(pipeline: pipeline.id, sha: pipeline.sha, trigger: job.trigger).deploy != .pending {
                return job
            }
            guard clock.elapsed < deadline else { return nil }
            if stopping() {
                throw .interrupted("stopped waiting for pipeline #\(pipeline.id)'s production deploy to start at shutdown")
            }
            try? await clock.sleep(for: min(gitlab.settings.pollInterval, max(.zero, deadline - clock.elapsed)))
        }
    }

    /// Sets the expedited strategy when configured, retries the job (once, whatever answers are
    /// lost: `settled` hears how each was settled) and follows it (a trigger job: its downstream
    /// pipeline) until the deploy ends or `follow_timeout` passes.
    public func redeploy(
        pipeline: Pipeline, job: Job, logger: Logger, stopping: @Sendable () -> Bool = { false },
        settled: (Settlement) async -> Void = { _ in },
        retried: (_ original: Int, _ new: Int) async throws(ControlError) -> Void = { _, _ in },
        downstream: (DownstreamPipeline) async throws(ControlError) -> Void = { _ in }
    ) async throws(ControlError) -> Job {
        try await setExpedited(logger: logger, settled: settled)
        let current = try await gitlab.retryOnce(job, pipeline: pipeline.id, settled: settled)
        try await retried(job.id, current.id)
        logger.info(
            "retried job #\(job.id) → new job #\(current.id) (\(current.name)) in pipeline #\(pipeline.id) at \(pipeline.sha.prefix(12))")
        return try await follow(current, pipeline: pipeline, logger: logger, stopping: stopping, downstream: downstream)
    }

    /// Follows a job until its deploy ends (``Job/progress``) or `follow_timeout` passes; a
    /// trigger job's downstream pipeline is reported once, when first seen. Within a quarter
    /// second of `stopping` turning true (a shutdown) it stops waiting with ``ControlError/interrupted(_:)``.
    public func follow(
        _ job: Job, pipeline: Pipeline, logger: Logger, stopping: @Sendable () -> Bool = { false },
        downstream: (DownstreamPipeline) async throws(ControlError) -> Void = { _ in }
    ) async throws(ControlError) -> Job {
        var current = job
        var reported: Int?
        let deadline = clock.elapsed + gitlab.settings.followTimeout
        while true {
            if let found = current.downstream, found.id != reported {
                reported = found.id
                logger.info("deploy job #\(current.id) runs in downstream pipeline \(found.label)")
                try await downstream(found)
            }
            guard case .running(let what) = current.progress else { break }
            guard clock.elapsed < deadline else {
                throw .unavailable("\(what) still after \(gitlab.settings.followTimeout)")
            }
            let poll = clock.elapsed + gitlab.settings.pollInterval
            while clock.elapsed < poll {
                if stopping() {
                    throw .interrupted(
                        "stopped following deploy job #\(current.id) (\(what)) at shutdown; the redeploy stays recorded as "
                            + "owed in the secret's metadata and is followed to its end at the next start"
                    )
                }
                try? await clock.sleep(for: min(.milliseconds(250), poll - clock.elapsed))
            }
            current = try await gitlab.job(current, pipeline: pipeline.id)
        }
        logger.info(
            "job #\(current.id) \(current.status)\(current.downstream.map { ", downstream pipeline \($0.label) \($0.status)" } ?? "")")
        return current
    }

    /// Sets `RUNWAY_DEPLOYMENT_STRATEGY=expedited` as GitLab's runbook does: a Protected,
    /// unmasked variable of the configured environment scope, marked as this target's
    /// (``ExpeditedMark``). Already `expedited` by a person: left alone. Another value: changed,
    /// and what it was kept in the mark.
    /// Creating it is sent once: a lost answer is settled by reading the variable.
    public func setExpedited(logger: Logger, settled: (Settlement) async -> Void = { _ in }) async throws(ControlError) {
        let settings = gitlab.settings
        guard settings.expedited else { return }
        let key = Self.expeditedVariable
        guard let existing = try await gitlab.variable(key, scope: settings.expeditedScope) else {
            let mine = CIVariable(
                key: key, value: "expedited", protected: true, masked: false, environmentScope: settings.expeditedScope,
                description: ExpeditedMark(holders: [holder]).description)
            _ = try await sendOnce(
                "create of the CI variable \(key)",
                send: { () async throws(ControlError) -> CIVariable in
                    try await gitlab.createVariable(mine)
                    return mine
                },
                find: { () async throws(ControlError) -> CIVariable? in
                    let found = try await gitlab.variable(key, scope: settings.expeditedScope)
                    return ExpeditedMark(description: found?.description)?.holders.contains(holder) == true ? found : nil
                },
                alreadyDone: { $0.description.contains("has already been taken") },
                describe: { "\($0.key)=\($0.value), marked as \(holder)'s" }, settled: settled)
            logger.info("set \(key)=expedited (protected, unmasked, scope \(settings.expeditedScope))")
            return
        }
        if var mark = ExpeditedMark(description: existing.description) {
            if !mark.holders.contains(holder) { mark.holders.append(holder) }
            try await gitlab.updateVariable(key, scope: settings.expeditedScope, value: "expedited", description: mark.description)
            logger.info("\(key)=expedited is held by \(mark.holders.joined(separator: ", ")) now")
        } else if existing.value == "expedited" {
            logger.info("\(key)=expedited was already set by a person (scope \(settings.expeditedScope)): left as it is")
        } else {
            let mark = ExpeditedMark(holders: [holder], was: (existing.value, existing.description))
            try await gitlab.updateVariable(key, scope: settings.expeditedScope, value: "expedited", description: mark.description)
            logger.info("set \(key)=expedited (it was \(existing.value); put back after the restore)")
        }
    }

    /// Lets go of the expedited strategy (it is sticky) after the incident: the last holder puts
    /// the variable back exactly as it was before the agent (removed, or its old value). One a
    /// person set, or whose mark a person removed, is left alone.
    public func clearExpedited(logger: Logger) async throws(ControlError) {
        let settings = gitlab.settings
        guard settings.expedited else { return }
        let key = Self.expeditedVariable
        guard let existing = try await gitlab.variable(key, scope: settings.expeditedScope) else { return }
        guard var mark = ExpeditedMark(description: existing.description) else {
            logger.info("\(key) is a person's (no failover-agent mark): left as it is")
            return
        }
        mark.holders.removeAll { $0 == holder }
        if !mark.holders.isEmpty {
            try await gitlab.updateVariable(key, scope: settings.expeditedScope, value: existing.value, description: mark.description)
            logger.info("\(key) stays: still held by \(mark.holders.joined(separator: ", "))")
        } else if let was = mark.was {
            try await gitlab.updateVariable(key, scope: settings.expeditedScope, value: was.value, description: was.description)
            logger.info("put \(key) back to \(was.value)")
        } else {
            try await gitlab.deleteVariable(key, scope: settings.expeditedScope)
            logger.info("removed \(key)")
        }
    }
}

/// How a write reaches production (``Redeployer/preflight(startedBeforeWrite:)``).
public struct PlannedDeploy: Sendable, Equatable {
    public var decision: DeployDecision
    /// The pipeline the decision is about.
    public var pipeline: Pipeline
    /// Its production trigger job; nil when the pipeline has not created it yet.
    public var job: Job?
    /// The pipelines whose production deploy had started when this was read.
    public var started: Set<Int>
}

extension Job {
    /// The job as the deploy decision sees it.
    public var trigger: DeployFacts.Trigger {
        DeployFacts.Trigger(job: id, name: name, status: status, downstream: downstream?.status, isBridge: isBridge)
    }
}
