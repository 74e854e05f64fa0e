import ControlAPI
import Lifecycle

/// What production runs and what is on its way, read for ``DeployDecision`` (reads only).
extension GitLab {
    /// The deploy branch's newest pipelines of the deploying sources (`pipeline_sources`), newest
    /// first, at most `limit`.
    public func deployingPipelines(limit: Int = 10) async throws(ControlError) -> [Pipeline] {
        Array(try await branchPipelines().filter { $0.source.isEmpty || settings.pipelineSources.contains($0.source) }.prefix(limit))
    }

    /// The deploy branch's newest pipelines of every source, newest first.
    func branchPipelines() async throws(ControlError) -> [Pipeline] {
        let answer = try await get("\(project)/pipelines?ref=\(escape(settings.ref))&order_by=id&sort=desc&per_page=50")
        return (answer.json?.array ?? []).compactMap(Self.pipeline)
    }

    /// The environment's last successful deployment: its SHA and the pipeline that made it.
    public func lastDeployment(environment: String) async throws(ControlError) -> DeployFacts.Deployed? {
        let answer = try await get(
            "\(project)/deployments?environment=\(escape(environment))&status=success&order_by=id&sort=desc&per_page=1")
        guard let deployment = answer.json?.array?.first, let sha = deployment["sha"]?.string else { return nil }
        return DeployFacts.Deployed(sha: sha, pipeline: deployment["deployable"]?["pipeline"]?["id"]?.int)
    }

    /// Production's last deployment (with `environment`) and the deploying pipelines from the
    /// newest down to the one production runs, each with its production trigger job. A branch
    /// head no pipeline has been created for yet is refused: its pipeline will deploy soon.
    public func deployFacts() async throws(ControlError) -> DeployFacts {
        var production: DeployFacts.Deployed?
        if let environment = settings.environment { production = try await lastDeployment(environment: environment) }
        let every = try await branchPipelines()
        let pipelines = Array(every.filter { $0.source.isEmpty || settings.pipelineSources.contains($0.source) }.prefix(10))
        guard let newest = pipelines.first else {
            throw .refused("no pipeline of \(settings.pipelineSources.joined(separator: ", ")) on \(settings.ref)")
        }
        let head = try await branchHead()
        if !every.contains(where: { $0.sha == head }) {
            throw .refused(
                "\(settings.ref) is at \(head.prefix(12)), which has no pipeline yet (the newest, #\(newest.id), is at "
                    + "\(newest.sha.prefix(12))): its pipeline deploys it soon; wait for it")
        }
        var candidates: [DeployFacts.Candidate] = []
        for pipeline in pipelines {
            let trigger: Job?
            do { trigger = try await deployJob(pipeline: pipeline.id) } catch .refused(let why) where why.hasPrefix("no job") {
                trigger = nil  // not created yet, or this pipeline deploys nothing
            }
            let candidate = DeployFacts.Candidate(
                pipeline: pipeline.id, sha: pipeline.sha,
                trigger: trigger.map {
                    DeployFacts.Trigger(
                        job: $0.id, name: $0.name, status: $0.status, downstream: $0.downstream?.status, isBridge: $0.isBridge)
                })
            candidates.append(candidate)
            // Older pipelines than the one production runs do not matter.
            if let production, production.pipeline == pipeline.id || (production.pipeline == nil && production.sha == pipeline.sha) {
                break
            }
            if production == nil, candidate.deploy == .succeeded { break }
        }
        return DeployFacts(production: production, pipelines: candidates)
    }
}

extension GitLab {
    /// The text of `path` in the deploy project at `ref` (a SHA): the repository files API.
    public func file(_ path: String, ref: String) async throws(ControlError) -> String {
        let answer = try await get("\(project)/repository/files/\(escape(path))/raw?ref=\(escape(ref))")
        return answer.text
    }
}
