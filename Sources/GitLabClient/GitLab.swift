import ControlAPI
import Foundation
import HTTP
import Timekeeping

/// Where and how to redeploy a target (DESIGN.md, "GitLab").
public struct GitLabSettings: Sendable, Equatable {
    /// The gateway's catalog files in the deploy project.
    public struct CatalogFiles: Sendable, Equatable {
        public var models: String
        public var unitPrimitives: String
        public init(models: String, unitPrimitives: String) { (self.models, self.unitPrimitives) = (models, unitPrimitives) }
    }

    public var url: String
    /// Numeric id or `group/project` path: the project whose pipelines hold the deploy job (on
    /// Runway's Cloud Run, the service's security mirror).
    public var project: String
    /// The deploy branch.
    public var ref: String
    /// The one deploy job to retry (``DeployJobMatcher``).
    public var deployJob: DeployJobMatcher
    /// When set, the environment's last successful deployment must be at the pipeline's SHA too.
    public var environment: String?
    /// Set `RUNWAY_DEPLOYMENT_STRATEGY=expedited` for the redeploy; put back as it was after the restore.
    public var expedited: Bool
    /// The expedited variable's environment scope (`*`: every environment).
    public var expeditedScope: String
    public var token: Credential
    /// How long to follow the retried job and its downstream pipeline.
    public var followTimeout: Duration
    public var pollInterval: Duration
    /// The pipeline sources that deploy (`push`, `web`): scheduled, API and security-policy pipelines are not "the latest".
    public var pipelineSources: [String]
    /// How long to wait for a newer pipeline's production deploy to start before deciding again.
    public var newerDeployTimeout: Duration
    /// Where the gateway's catalog files are in the deploy project: read at the SHA production
    /// runs when the target has no gateway URL to ask.
    public var catalogFiles: CatalogFiles
    public static let defaultPipelineSources = ["push", "web"]
    public static let defaultCatalogFiles = CatalogFiles(
        models: "ai_gateway/model_selection/models.yml", unitPrimitives: "ai_gateway/model_selection/unit_primitives.yml")

    public init(
        url: String, project: String, ref: String = "main", deployJob: DeployJobMatcher, environment: String? = nil,
        expedited: Bool = false, expeditedScope: String = "*", token: Credential, followTimeout: Duration = .seconds(1800),
        pollInterval: Duration = .seconds(10), pipelineSources: [String] = defaultPipelineSources,
        newerDeployTimeout: Duration = .seconds(1800), catalogFiles: CatalogFiles = defaultCatalogFiles
    ) {
        self.catalogFiles = catalogFiles
        self.pipelineSources = pipelineSources
        self.newerDeployTimeout = newerDeployTimeout
        self.url = url
        self.project = project
        self.ref = ref
        self.deployJob = deployJob
        self.environment = environment
        self.expedited = expedited
        self.expeditedScope = expeditedScope
        self.token = token
        self.followTimeout = followTimeout
        self.pollInterval = pollInterval
    }

    /// Whether a job's name matches ``deployJob``.
    public func matches(jobName name: String) -> Bool { deployJob.matches(name) }
}

public struct Pipeline: Sendable, Equatable {
    public var id: Int
    public var sha: String
    public var status: String
    /// What started it (`push`, `web`, `schedule`, `api`, `security_orchestration_policy`, …); "" when not said.
    public var source: String

    public init(id: Int, sha: String, status: String, source: String = "") {
        (self.id, self.sha, self.status, self.source) = (id, sha, status, source)
    }
}

public struct Job: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var status: String
    /// Trigger (bridge) jobs are listed apart from ordinary jobs.
    public var isBridge: Bool
    /// A trigger job's downstream pipeline, where the deploy really runs; nil before it exists.
    public var downstream: DownstreamPipeline?
    /// Why GitLab failed the job (`insufficient_bridge_permissions`, `downstream_bridge_project_not_found`, …).
    public var failureReason: String?

    public init(
        id: Int, name: String, status: String, isBridge: Bool, downstream: DownstreamPipeline? = nil, failureReason: String? = nil
    ) {
        (self.id, self.name, self.status, self.isBridge, self.downstream) = (id, name, status, isBridge, downstream)
        self.failureReason = failureReason
    }

    public var isFinished: Bool { Self.finished.contains(status) }
    static let finished: Set<String> = ["success", "failed", "canceled", "skipped"]
}

/// A trigger job's `downstream_pipeline`: the pipeline that deploys.
public struct DownstreamPipeline: Sendable, Equatable {
    public var id: Int
    public var projectID: Int?
    public var status: String
    public var webURL: String?

    public init(id: Int, projectID: Int? = nil, status: String, webURL: String? = nil) {
        (self.id, self.projectID, self.status, self.webURL) = (id, projectID, status, webURL)
    }

    /// `#id (url)`, as pages and change requests show it.
    public var label: String { "#\(id)" + (webURL.map { " (\($0))" } ?? "") }
}

/// The GitLab REST calls the redeploy needs, with pagination and 429 handling.
public struct GitLab: Sendable {
    public let settings: GitLabSettings
    let service: JSONService

    public init(
        settings: GitLabSettings, client: HTTPClient, environment: [String: String], timeout: Duration = .seconds(15), retries: Int = 4,
        backoff: Duration = .milliseconds(500), clock: any AgentClock
    ) throws(ControlError) {
        self.settings = settings
        service = JSONService(
            client: client, baseURL: settings.url.trimmingSlash + "/api/v4", headers: [], timeout: timeout, retries: retries,
            backoff: backoff, authorization: ("PRIVATE-TOKEN", "", try CredentialSource(settings.token, environment: environment)),
            clock: clock)
    }

    var project: String { "/projects/" + escape(settings.project) }

    /// The newest pipeline of a deploying source (`pipeline_sources`) on the deploy branch.
    public func latestPipeline() async throws(ControlError) -> Pipeline {
        guard let pipeline = try await deployingPipelines(limit: 1).first else { throw .refused("no pipeline on \(settings.ref)") }
        return pipeline
    }

    public func branchHead() async throws(ControlError) -> String {
        let answer = try await get("\(project)/repository/branches/\(escape(settings.ref))")
        guard let sha = answer.json?["commit"]?["id"]?.string else { throw .malformed("branch \(settings.ref) has no commit.id") }
        return sha
    }

    /// Where deployments stand now, to tell a later one: the environment's latest successful
    /// deployment id when `environment` is configured, else the latest pipeline's id on the branch.
    public func deployMarker() async throws(ControlError) -> Int {
        if let environment = settings.environment {
            let answer = try await get(
                "\(project)/deployments?environment=\(escape(environment))&status=success&order_by=id&sort=desc&per_page=1")
            return answer.json?.array?.first?["id"]?.int ?? 0
        }
        return try await latestPipeline().id
    }

    /// Whether a deployment succeeded after `marker` (see ``deployMarker()``): a newer successful
    /// deployment of the environment, or a newer pipeline whose deploy job's downstream pipeline
    /// succeeded (a trigger job alone is done once its downstream pipeline merely exists).
    public func deployedSince(_ marker: Int) async throws(ControlError) -> Bool {
        if settings.environment != nil { return try await deployMarker() > marker }
        let pipeline = try await latestPipeline()
        guard pipeline.id > marker else { return false }
        return try await jobs(pipeline: pipeline.id).contains { settings.matches(jobName: $0.name) && $0.progress == .succeeded }
    }

    /// Every job and trigger job of a pipeline, following pagination. Trigger jobs come from
    /// `trigger_jobs` (GitLab 19.2+), or `bridges` where that is not there yet.
    /// `includeRetried`: also the jobs a retry replaced (GitLab lists only the newest try of each).
    public func jobs(pipeline: Int, includeRetried: Bool = false) async throws(ControlError) -> [Job] {
        let query = "?per_page=100" + (includeRetried ? "&include_retried=true" : "")
        var jobs = try await all("\(project)/pipelines/\(pipeline)/jobs" + query).compactMap { Self.job($0, isBridge: false) }
        let triggers: [JSONValue]
        do { triggers = try await all("\(project)/pipelines/\(pipeline)/trigger_jobs" + query) } catch .refused(let why)
            where why.hasSuffix("(HTTP 404)")
        {
            triggers = try await all("\(project)/pipelines/\(pipeline)/bridges" + query)
        }
        jobs += triggers.compactMap { Self.job($0, isBridge: true) }
        return jobs
    }

    /// The one job of `pipeline` the matcher names: a job retried before counts once (its newest
    /// try); none, or more than one name, is a refusal naming what was found.
    public func deployJob(pipeline: Int) async throws(ControlError) -> Job {
        let matching = try await jobs(pipeline: pipeline).filter { settings.matches(jobName: $0.name) }
        let newest = Dictionary(grouping: matching, by: \.name).compactMapValues { $0.max { $0.id < $1.id } }
        guard newest.count <= 1 else {
            throw .refused(
                "deploy_job (\(settings.deployJob)) matches \(newest.count) jobs in pipeline #\(pipeline): "
                    + newest.values.sorted { $0.id < $1.id }.map { "#\($0.id) '\($0.name)'" }.joined(separator: ", ")
                    + "; it must name exactly one service's job")
        }
        guard let job = newest.values.first else {
            throw .refused("no job or trigger job in pipeline #\(pipeline) matches deploy_job (\(settings.deployJob))")
        }
        return job
    }

    /// Retries `job` exactly once, however the answers go (``sendOnce``): a lost answer, or a 403
    /// (GitLab refuses to retry a job retried already), is settled by reading the pipeline's jobs,
    /// retried ones included; the retry is sent again only when no newer try of the job is there.
    public func retryOnce(
        _ job: Job, pipeline: Int, settled: (Settlement) async -> Void = { _ in }
    ) async throws(ControlError) -> Job {
        try await sendOnce(
            "retry of job #\(job.id) (\(job.name))",
            send: { () async throws(ControlError) -> Job in try await retry(job) },
            find: { () async throws(ControlError) -> Job? in try await retryOf(job, pipeline: pipeline) },
            alreadyDone: { if case .refused = $0 { true } else { false } },
            describe: { "retried as job #\($0.id)" }, settled: settled)
    }

    /// The try that retried `job`, if any: the newest job of its name in `pipeline` with a greater
    /// id (retried ones included, as GitLab hides them otherwise).
    public func retryOf(_ job: Job, pipeline: Int) async throws(ControlError) -> Job? {
        try await jobs(pipeline: pipeline, includeRetried: true).filter { $0.name == job.name && $0.id > job.id }.max { $0.id < $1.id }
    }

    /// Retries a job, once; the answer is the new job. 403 means GitLab will not retry it. Used by
    /// ``retryOnce(_:pipeline:settled:)``: a lost answer here is ``ControlError/unknownOutcome(_:)``.
    func retry(_ job: Job) async throws(ControlError) -> Job {
        let answer = try await service.call("POST", "\(project)/jobs/\(job.id)/retry")
        if answer.status == 403 {
            throw .refused("GitLab will not retry job \(job.id) (\(job.name)): \(answer.json?["message"]?.string ?? "HTTP 403")")
        }
        try check(answer, "retry job \(job.id)")
        guard let json = answer.json, let retried = Self.job(json, isBridge: job.isBridge) else {
            throw .malformed("retry of job \(job.id) returned no job")
        }
        return retried
    }

    /// The job's current state (bridges are looked up among their pipeline's bridges).
    public func job(_ job: Job, pipeline: Int) async throws(ControlError) -> Job {
        if job.isBridge {
            guard let found = try await jobs(pipeline: pipeline).first(where: { $0.id == job.id }) else {
                throw .malformed("bridge \(job.id) is not in pipeline \(pipeline)")
            }
            return found
        }
        let answer = try await get("\(project)/jobs/\(job.id)")
        guard let json = answer.json, let current = Self.job(json, isBridge: false) else { throw .malformed("job \(job.id)") }
        return current
    }

    /// A project CI variable of `scope`; nil when there is none.
    public func variable(_ key: String, scope: String) async throws(ControlError) -> CIVariable? {
        let answer = try await service.call("GET", variablePath(key, scope: scope))
        if answer.status == 404 { return nil }
        try check(answer, "read variable \(key)")
        guard let json = answer.json, let value = json["value"]?.string else { throw .malformed("variable \(key) has no value") }
        return CIVariable(
            key: key, value: value, protected: json["protected"]?.bool ?? false, masked: json["masked"]?.bool ?? false,
            environmentScope: json["environment_scope"]?.string ?? scope, description: json["description"]?.string)
    }

    /// Creates a project CI variable (a plain `env_var`, as the runbook makes it).
    public func createVariable(_ variable: CIVariable) async throws(ControlError) {
        var body: [String: JSONValue] = [
            "key": .string(variable.key), "value": .string(variable.value), "protected": .bool(variable.protected),
            "masked": .bool(variable.masked), "environment_scope": .string(variable.environmentScope), "variable_type": .string("env_var"),
        ]
        if let description = variable.description { body["description"] = .string(description) }
        _ = try await call("POST", "\(project)/variables", body: .object(body), "create variable \(variable.key)")
    }

    /// Changes a variable's value and description; its other attributes stay as they are.
    public func updateVariable(_ key: String, scope: String, value: String, description: String?) async throws(ControlError) {
        _ = try await call(
            "PUT", variablePath(key, scope: scope),
            body: .object(["value": .string(value), "description": description.map { .string($0) } ?? .null]), "update variable \(key)")
    }

    /// Removes a project CI variable of `scope`; absent is fine.
    public func deleteVariable(_ key: String, scope: String) async throws(ControlError) {
        let answer = try await service.call("DELETE", variablePath(key, scope: scope))
        if answer.status == 404 { return }
        try check(answer, "delete variable \(key)")
    }

    private func variablePath(_ key: String, scope: String) -> String {
        "\(project)/variables/\(escape(key))?\(escape("filter[environment_scope]"))=\(escape(scope))"
    }

    // MARK: -

    /// A checked call: any status but 2xx throws, naming `what`.
    func call(_ method: String, _ path: String, body: JSONValue? = nil, _ what: String) async throws(ControlError) -> JSONService.Answer {
        let answer = try await service.call(method, path, body: body)
        try check(answer, what)
        return answer
    }

    func get(_ path: String) async throws(ControlError) -> JSONService.Answer {
        let answer = try await service.call("GET", path)
        try check(answer, "GET \(path)")
        return answer
    }

    /// Follows `x-next-page` (or a `Link: rel="next"` on this host) for at most 50 pages.
    private func all(_ path: String) async throws(ControlError) -> [JSONValue] {
        var items: [JSONValue] = []
        var next: String? = path
        var pages = 0
        while let current = next, pages < 50 {
            let answer = try await get(current)
            items += answer.json?.array ?? []
            pages += 1
            if let page = answer.header("x-next-page"), !page.isEmpty {
                next = path + "&page=\(page)"
            } else if let link = answer.header("link"), let url = Self.nextLink(link), let range = url.range(of: "/api/v4") {
                next = String(url[range.upperBound...])
            } else {
                next = nil
            }
        }
        return items
    }

    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") where part.contains(#"rel="next""#) {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">") else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    private func check(_ answer: JSONService.Answer, _ what: String) throws(ControlError) {
        switch answer.status {
        case 200..<300: return
        case 401, 403: throw .forbidden("the GitLab token may not \(what) (HTTP \(answer.status))")
        case 404: throw .refused("\(what): not found (HTTP 404)")
        default: throw .unavailable("\(what): HTTP \(answer.status) \(answer.text.prefix(200))")
        }
    }

    func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    static func pipeline(_ json: JSONValue) -> Pipeline? {
        guard let id = json["id"]?.int, let sha = json["sha"]?.string else { return nil }
        return Pipeline(id: id, sha: sha, status: json["status"]?.string ?? "", source: json["source"]?.string ?? "")
    }

    static func job(_ json: JSONValue, isBridge: Bool) -> Job? {
        guard let id = json["id"]?.int, let name = json["name"]?.string else { return nil }
        var downstream: DownstreamPipeline?
        if let pipeline = json["downstream_pipeline"], let pid = pipeline["id"]?.int {
            downstream = DownstreamPipeline(
                id: pid, projectID: pipeline["project_id"]?.int, status: pipeline["status"]?.string ?? "",
                webURL: pipeline["web_url"]?.string)
        }
        return Job(
            id: id, name: name, status: json["status"]?.string ?? "", isBridge: isBridge, downstream: downstream,
            failureReason: json["failure_reason"]?.string)
    }
}
