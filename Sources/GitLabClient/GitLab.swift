import ControlAPI
import Foundation
import HTTP

/// Where and how to redeploy a target (DESIGN.md, "GitLab").
public struct GitLabSettings: Sendable, Equatable {
    public var url: String
    /// Numeric id or `group/project` path.
    public var project: String
    /// The deploy branch.
    public var ref: String
    /// Names the deploy job: a substring, or a regular expression written `/…/`.
    public var deployJob: String
    /// When set, the environment's last successful deployment must be at the pipeline's SHA too.
    public var environment: String?
    /// Set `RUNWAY_DEPLOYMENT_STRATEGY=expedited` for the redeploy; removed after the restore.
    public var expedited: Bool
    public var token: Credential
    /// How long to follow the retried job.
    public var followTimeout: Duration
    public var pollInterval: Duration

    public init(
        url: String, project: String, ref: String = "main", deployJob: String, environment: String? = nil, expedited: Bool = false,
        token: Credential, followTimeout: Duration = .seconds(1800), pollInterval: Duration = .seconds(10)
    ) {
        self.url = url
        self.project = project
        self.ref = ref
        self.deployJob = deployJob
        self.environment = environment
        self.expedited = expedited
        self.token = token
        self.followTimeout = followTimeout
        self.pollInterval = pollInterval
    }

    /// Whether a job's name matches ``deployJob``.
    public func matches(jobName name: String) -> Bool {
        if deployJob.count > 2, deployJob.hasPrefix("/"), deployJob.hasSuffix("/") {
            return name.range(of: String(deployJob.dropFirst().dropLast()), options: .regularExpression) != nil
        }
        return name.contains(deployJob)
    }
}

public struct Pipeline: Sendable, Equatable {
    public var id: Int
    public var sha: String
    public var status: String

    public init(id: Int, sha: String, status: String) {
        (self.id, self.sha, self.status) = (id, sha, status)
    }
}

public struct Job: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var status: String
    /// Trigger (bridge) jobs are listed apart from ordinary jobs.
    public var isBridge: Bool

    public init(id: Int, name: String, status: String, isBridge: Bool) {
        (self.id, self.name, self.status, self.isBridge) = (id, name, status, isBridge)
    }

    public var isFinished: Bool { ["success", "failed", "canceled", "skipped"].contains(status) }
}

/// The GitLab REST calls the redeploy needs, with pagination and 429 handling.
public struct GitLab: Sendable {
    public let settings: GitLabSettings
    private let service: JSONService

    public init(
        settings: GitLabSettings, client: HTTPClient, environment: [String: String], timeout: Duration = .seconds(15), retries: Int = 4,
        backoff: Duration = .milliseconds(500)
    ) throws(ControlError) {
        self.settings = settings
        let token = try settings.token.resolve(environment)
        service = JSONService(
            client: client, baseURL: settings.url.trimmingSlash + "/api/v4", headers: [HTTPHeader("PRIVATE-TOKEN", token)],
            timeout: timeout, retries: retries, backoff: backoff, secrets: [token])
    }

    private var project: String { "/projects/" + escape(settings.project) }

    public func latestPipeline() async throws(ControlError) -> Pipeline {
        let answer = try await get("\(project)/pipelines?ref=\(escape(settings.ref))&order_by=id&sort=desc&per_page=1")
        guard let first = answer.json?.array?.first, let pipeline = Self.pipeline(first) else {
            throw .refused("no pipeline on \(settings.ref)")
        }
        return pipeline
    }

    public func branchHead() async throws(ControlError) -> String {
        let answer = try await get("\(project)/repository/branches/\(escape(settings.ref))")
        guard let sha = answer.json?["commit"]?["id"]?.string else { throw .malformed("branch \(settings.ref) has no commit.id") }
        return sha
    }

    /// The SHA of the environment's last successful deployment, if any.
    public func lastDeployedSHA(environment: String) async throws(ControlError) -> String? {
        let answer = try await get(
            "\(project)/deployments?environment=\(escape(environment))&status=success&order_by=id&sort=desc&per_page=1")
        return answer.json?.array?.first?["sha"]?.string
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
    /// deployment of the environment, or a newer pipeline whose deploy job succeeded.
    public func deployedSince(_ marker: Int) async throws(ControlError) -> Bool {
        if settings.environment != nil { return try await deployMarker() > marker }
        let pipeline = try await latestPipeline()
        guard pipeline.id > marker else { return false }
        return try await jobs(pipeline: pipeline.id).contains { settings.matches(jobName: $0.name) && $0.status == "success" }
    }

    /// Every job and bridge of a pipeline, following pagination.
    public func jobs(pipeline: Int) async throws(ControlError) -> [Job] {
        var jobs: [Job] = []
        for (kind, isBridge) in [("jobs", false), ("bridges", true)] {
            for item in try await all("\(project)/pipelines/\(pipeline)/\(kind)?per_page=100") {
                if let job = Self.job(item, isBridge: isBridge) { jobs.append(job) }
            }
        }
        return jobs
    }

    /// Retries a job; the answer is the new job. 403 means GitLab will not retry it.
    public func retry(_ job: Job) async throws(ControlError) -> Job {
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

    /// Sets a project CI variable, creating or updating it.
    public func setVariable(_ key: String, _ value: String) async throws(ControlError) {
        let created = try await service.call("POST", "\(project)/variables", body: .object(["key": .string(key), "value": .string(value)]))
        if created.status == 400, created.text.contains("taken") {
            try check(
                try await service.call("PUT", "\(project)/variables/\(escape(key))", body: .object(["value": .string(value)])),
                "update variable \(key)")
        } else {
            try check(created, "create variable \(key)")
        }
    }

    /// Removes a project CI variable; absent is fine.
    public func deleteVariable(_ key: String) async throws(ControlError) {
        let answer = try await service.call("DELETE", "\(project)/variables/\(escape(key))")
        if answer.status == 404 { return }
        try check(answer, "delete variable \(key)")
    }

    // MARK: -

    /// A checked call: any status but 2xx throws, naming `what`.
    func call(_ method: String, _ path: String, body: JSONValue? = nil, _ what: String) async throws(ControlError) -> JSONService.Answer {
        let answer = try await service.call(method, path, body: body)
        try check(answer, what)
        return answer
    }

    private func get(_ path: String) async throws(ControlError) -> JSONService.Answer {
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
        return Pipeline(id: id, sha: sha, status: json["status"]?.string ?? "")
    }

    static func job(_ json: JSONValue, isBridge: Bool) -> Job? {
        guard let id = json["id"]?.int, let name = json["name"]?.string else { return nil }
        return Job(id: id, name: name, status: json["status"]?.string ?? "", isBridge: isBridge)
    }
}
