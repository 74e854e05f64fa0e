import ControlAPI
import Logging

/// Retries the deploy job of the latest pipeline, and only when that pipeline is at the head of
/// the deploy branch: an older pipeline would deploy an older image.
public struct Redeployer: Sendable {
    public let gitlab: GitLab
    public static let expeditedVariable = "RUNWAY_DEPLOYMENT_STRATEGY"

    public init(gitlab: GitLab) { self.gitlab = gitlab }

    /// What would be retried. Refuses, touching nothing, when the latest pipeline is not at the
    /// branch head (or at the environment's last deployment, when configured), when no job or
    /// bridge matches, or when the job cannot be retried now.
    public func preflight() async throws(ControlError) -> (pipeline: Pipeline, job: Job) {
        let settings = gitlab.settings
        let pipeline = try await gitlab.latestPipeline()
        let head = try await gitlab.branchHead()
        guard pipeline.sha == head else {
            throw .refused(
                "the latest pipeline #\(pipeline.id) on \(settings.ref) is at \(pipeline.sha.prefix(12)), but \(settings.ref) is at "
                    + "\(head.prefix(12)): retrying it would deploy an older image; wait for the pipeline of \(head.prefix(12))"
            )
        }
        if let environment = settings.environment {
            let deployed = try await gitlab.lastDeployedSHA(environment: environment)
            guard deployed == pipeline.sha else {
                throw .refused(
                    "\(environment) last deployed \(deployed.map { String($0.prefix(12)) } ?? "nothing"), not the latest pipeline's "
                        + "\(pipeline.sha.prefix(12)): a retry would change the running code"
                )
            }
        }
        let candidates = try await gitlab.jobs(pipeline: pipeline.id).filter { settings.matches(jobName: $0.name) }
        guard let job = candidates.max(by: { $0.id < $1.id }) else {
            throw .refused("no job or bridge in pipeline #\(pipeline.id) matches '\(settings.deployJob)'")
        }
        guard ["success", "failed", "canceled"].contains(job.status) else {
            throw .refused("deploy job #\(job.id) (\(job.name)) is \(job.status): it cannot be retried until it ends")
        }
        return (pipeline, job)
    }

    /// Sets the expedited strategy when configured, retries the job and follows the new one
    /// until it ends or `follow_timeout` passes.
    public func redeploy(
        pipeline: Pipeline, job: Job, logger: Logger, stopping: @Sendable () -> Bool = { false },
        retried: (_ original: Int, _ new: Int) async throws(ControlError) -> Void = { _, _ in }
    ) async throws(ControlError) -> Job {
        if gitlab.settings.expedited {
            try await gitlab.setVariable(Self.expeditedVariable, "expedited")
            logger.info("set \(Self.expeditedVariable)=expedited")
        }
        let current = try await gitlab.retry(job)
        try await retried(job.id, current.id)
        logger.info(
            "retried job #\(job.id) → new job #\(current.id) (\(current.name)) in pipeline #\(pipeline.id) at \(pipeline.sha.prefix(12))")
        return try await follow(current, pipeline: pipeline, logger: logger, stopping: stopping)
    }

    /// Follows a job until it ends or `follow_timeout` passes; within a quarter second of
    /// `stopping` turning true (a shutdown) it stops waiting with ``ControlError/interrupted(_:)``.
    public func follow(
        _ job: Job, pipeline: Pipeline, logger: Logger, stopping: @Sendable () -> Bool = { false }
    ) async throws(ControlError) -> Job {
        var current = job
        let clock = ContinuousClock()
        let deadline = clock.now + gitlab.settings.followTimeout
        while !current.isFinished {
            guard clock.now < deadline else {
                throw .unavailable("job #\(current.id) still \(current.status) after \(gitlab.settings.followTimeout)")
            }
            let poll = clock.now + gitlab.settings.pollInterval
            while clock.now < poll {
                if stopping() {
                    throw .interrupted(
                        "stopped following deploy job #\(current.id) (\(current.status)) at shutdown; the redeploy stays recorded as "
                            + "owed in the secret's metadata and is followed to its end at the next start"
                    )
                }
                try? await Task.sleep(for: min(.milliseconds(250), poll - clock.now))
            }
            current = try await gitlab.job(current, pipeline: pipeline.id)
        }
        logger.info("job #\(current.id) \(current.status)")
        return current
    }

    /// Removes the expedited strategy (it is sticky): after the incident.
    public func clearExpedited(logger: Logger) async throws(ControlError) {
        guard gitlab.settings.expedited else { return }
        try await gitlab.deleteVariable(Self.expeditedVariable)
        logger.info("removed \(Self.expeditedVariable)")
    }
}
