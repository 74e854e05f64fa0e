import ControlAPI
import Foundation
import GitLabClient
import HTTPServer
import Synchronization

/// A GitLab REST server on 127.0.0.1 for one project: pipelines, jobs and trigger (bridge) jobs,
/// retries, job progress, branch head, deployments, CI variables, pagination and faults.
public final class GitLabSimulator: Sendable {
    public struct SimJob: Sendable {
        public var id: Int
        public var name: String
        public var status: String
        public var isBridge: Bool
        public var retryable: Bool
        public init(id: Int, name: String, status: String = "success", isBridge: Bool = false, retryable: Bool = true) {
            self.id = id
            self.name = name
            self.status = status
            self.isBridge = isBridge
            self.retryable = retryable
        }
    }
    struct SimPipeline {
        var id: Int
        var sha: String
        var ref: String
        var jobs: [SimJob]
    }
    struct State: FaultyState {
        var head: [String: String] = [:]
        var pipelines: [SimPipeline] = []
        /// Environment → its successful deployments (id, sha), oldest first.
        var deployments: [String: [(id: Int, sha: String)]] = [:]
        /// Project → its issues (change requests).
        var issues: [String: [SimIssue]] = [:]
        /// Called when a retried deploy job succeeds, or a regular deployment happens: the sandbox
        /// gateway starts serving what the secret holds then.
        var onDeploy: (@Sendable () -> Void)?
        var variables: [String: String] = [:]
        var faults = Faults()
        /// How retried jobs end.
        var deployOutcome = "success"
        /// Polls a retried job stays pending/running before it ends.
        var pollsToFinish = 2
        /// The `message` of a 403 to the retry of a job that is not retryable.
        var retryRefusal = "403 Forbidden - Job is not retryable"
        var polls: [Int: Int] = [:]
        var retries: [Int] = []
        var requests: [ServerRequest] = []
        var pageSize = 100
    }
    /// A GitLab issue as the change requests use it.
    public struct SimIssue: Sendable {
        public var iid: Int
        public var title: String
        public var description: String
        public var labels: [String]
        public var confidential: Bool
        public var state = "opened"
        public var notes: [String] = []
    }
    private final class Box: Sendable { let state = Mutex(State()) }

    public let token: String
    public let project: String
    private let box: Box
    private let server: HTTPServer

    public static func start(project: String = "42", token: String = "glpat-sandbox") async throws -> GitLabSimulator {
        let box = Box()
        let server = try await HTTPServer.start { request in Self.handle(request, box: box, project: project, token: token) }
        return GitLabSimulator(token: token, project: project, box: box, server: server)
    }

    private init(token: String, project: String, box: Box, server: HTTPServer) {
        self.token = token
        self.project = project
        self.box = box
        self.server = server
    }

    public var url: String { server.baseURL }
    public func stop() async { await server.stop() }

    /// A pipeline on `ref` at `sha` with these jobs; it becomes the branch head unless `headMoves` is false.
    public func addPipeline(id: Int, sha: String, ref: String = "main", jobs: [SimJob]) {
        box.state.withLock {
            $0.pipelines.append(SimPipeline(id: id, sha: sha, ref: ref, jobs: jobs))
            $0.head[ref] = sha
        }
    }
    /// A newer commit on `ref` that has no pipeline yet.
    public func pushCommit(_ sha: String, ref: String = "main") { box.state.withLock { $0.head[ref] = sha } }
    public func setDeployed(_ sha: String, environment: String) {
        box.state.withLock {
            $0.deployments[environment, default: []].append((($0.deployments.values.flatMap { $0 }.map(\.id).max() ?? 0) + 1, sha))
        }
    }
    /// Called on every deployment from now on (see ``State/onDeploy``).
    public func onDeploy(_ action: @escaping @Sendable () -> Void) { box.state.withLock { $0.onDeploy = action } }
    /// The next regular deployment: a new pipeline at `sha` whose deploy job succeeded, deployed to `environment`.
    public func deployRegularly(pipeline id: Int, sha: String, jobName: String, environment: String? = nil, ref: String = "main") {
        let onDeploy = box.state.withLock { state in
            let jobID = (state.pipelines.flatMap(\.jobs).map(\.id).max() ?? 0) + 1
            state.pipelines.append(
                SimPipeline(id: id, sha: sha, ref: ref, jobs: [SimJob(id: jobID, name: jobName, status: "success", isBridge: true)]))
            state.head[ref] = sha
            if let environment {
                state.deployments[environment, default: []].append(
                    ((state.deployments.values.flatMap { $0 }.map(\.id).max() ?? 0) + 1, sha))
            }
            return state.onDeploy
        }
        onDeploy?()
    }
    /// The issues of `project`, by iid.
    public func issues(in project: String) -> [SimIssue] { box.state.withLock { $0.issues[project] ?? [] } }
    public func setDeployOutcome(_ status: String) { box.state.withLock { $0.deployOutcome = status } }
    /// How many looks a retried job takes to end (a large number: it keeps running).
    public func setPollsToFinish(_ polls: Int) { box.state.withLock { $0.pollsToFinish = polls } }
    /// The message GitLab gives when it will not retry a job (some quote the request back).
    public func setRetryRefusal(_ message: String) { box.state.withLock { $0.retryRefusal = message } }
    public func setPageSize(_ size: Int) { box.state.withLock { $0.pageSize = size } }
    /// Never answer `method` requests whose URI contains `fragment` (nil: answer again), after
    /// carrying them out or before: a caller that dies waiting died after or before the side effect.
    public func hang(_ method: String, _ fragment: String?, carriedOut: Bool, times: Int = .max) {
        box.state.withLock { $0.faults.matching = fragment.map { (method, $0, .hang(carriedOut: carriedOut), times) } }
    }
    /// Answer the next `times` `method` requests whose URI contains `fragment` with `status`, not carrying them out.
    public func fail(_ method: String, _ fragment: String, status: Int = 502, times: Int) {
        box.state.withLock { $0.faults.matching = (method, fragment, .status(status), times) }
    }
    public func failNext(_ count: Int, status: Int = 502) { box.state.withLock { $0.faults.failures = (count, status) } }
    public func rateLimitNext(_ count: Int, retryAfter: Int?) { box.state.withLock { $0.faults.rateLimits = (count, retryAfter) } }
    public var variables: [String: String] { box.state.withLock { $0.variables } }
    /// Ids of the jobs retried so far.
    public var retries: [Int] { box.state.withLock { $0.retries } }
    public var requests: [ServerRequest] { box.state.withLock { $0.requests } }

    private static func handle(_ request: ServerRequest, box: Box, project: String, token: String) -> ServerReply {
        box.state.withLock { state in
            state.answer(request) { route(request, state: &$0, project: project, token: token) }
        }
    }

    private static func route(_ request: ServerRequest, state: inout State, project: String, token: String) -> ServerReply {
        state.requests.append(request)
        if let fault = state.faults.next() { return fault }
        guard request.header("private-token") == token else { return .json(401, .object(["message": .string("401 Unauthorized")])) }
        let parts = request.pathParts.map { String($0).removingPercentEncoding ?? String($0) }
        if parts.count >= 5, parts[0] == "api", parts[1] == "v4", parts[2] == "projects", parts[4] == "issues" {
            return issue(request, project: parts[3], rest: Array(parts[5...]), state: &state)
        }
        guard parts.count >= 5, parts[0] == "api", parts[1] == "v4", parts[2] == "projects", parts[3] == project else {
            return .json(404, .object(["message": .string("404 Project Not Found")]))
        }
        let rest = Array(parts[4...])
        switch (request.method, rest.count, rest.first) {
        case ("GET", 1, "pipelines"):
            let ref = request.query["ref"]
            let list = state.pipelines.filter { ref == nil || $0.ref == ref }.sorted { $0.id > $1.id }
            return page(
                list.map {
                    .object(["id": .number(Double($0.id)), "sha": .string($0.sha), "ref": .string($0.ref), "status": .string("success")])
                }, request, state.pageSize)
        case ("GET", 3, "repository") where rest[1] == "branches":
            guard let sha = state.head[rest[2]] else { return .json(404, .object(["message": .string("404 Branch Not Found")])) }
            return .json(200, .object(["name": .string(rest[2]), "commit": .object(["id": .string(sha)])]))
        case ("GET", 1, "deployments"):
            let list = request.query["environment"].flatMap { state.deployments[$0] } ?? []
            return page(
                list.reversed().map { .object(["id": .number(Double($0.id)), "sha": .string($0.sha), "status": .string("success")]) },
                request, state.pageSize)
        case ("GET", 3, "pipelines") where rest[2] == "jobs" || rest[2] == "bridges":
            guard let index = state.pipelines.firstIndex(where: { String($0.id) == rest[1] }) else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            let bridges = rest[2] == "bridges"
            for job in state.pipelines[index].jobs where job.isBridge == bridges { advance(job.id, in: &state) }
            return page(state.pipelines[index].jobs.filter { $0.isBridge == bridges }.map(json), request, state.pageSize)
        case ("GET", 2, "jobs"):
            guard let id = Int(rest[1]), let job = find(id, in: state), !job.isBridge else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            advance(id, in: &state)
            return .json(200, json(find(id, in: state)!))
        case ("POST", 3, "jobs") where rest[2] == "retry":
            guard let id = Int(rest[1]), let job = find(id, in: state) else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            guard job.retryable else { return .json(403, .object(["message": .string(state.retryRefusal)])) }
            let newID = (state.pipelines.flatMap(\.jobs).map(\.id).max() ?? 0) + 1
            let index = state.pipelines.firstIndex { $0.jobs.contains { $0.id == id } }!
            let retried = SimJob(id: newID, name: job.name, status: "pending", isBridge: job.isBridge)
            state.pipelines[index].jobs.append(retried)
            state.retries.append(id)
            return .json(201, json(retried))
        case ("POST", 1, "variables"):
            guard let key = request.json?["key"]?.string, let value = request.json?["value"]?.string else {
                return .json(400, .object(["message": .string("key and value required")]))
            }
            if state.variables[key] != nil {
                return .json(400, .object(["message": .object(["key": .array([.string("(\(key)) has already been taken")])])]))
            }
            state.variables[key] = value
            return .json(201, .object(["key": .string(key), "value": .string(value)]))
        case ("PUT", 2, "variables"):
            guard state.variables[rest[1]] != nil else { return .json(404, .object(["message": .string("404 Variable Not Found")])) }
            state.variables[rest[1]] = request.json?["value"]?.string
            return .json(200, .object(["key": .string(rest[1])]))
        case ("DELETE", 2, "variables"):
            guard state.variables.removeValue(forKey: rest[1]) != nil else {
                return .json(404, .object(["message": .string("404 Variable Not Found")]))
            }
            return .respond(status: 204)
        default:
            return .json(404, .object(["message": .string("404 Not found")]))
        }
    }

    /// `POST issues`, `POST issues/:iid/notes`, `PUT issues/:iid` (`state_event: close`).
    private static func issue(_ request: ServerRequest, project: String, rest: [String], state: inout State) -> ServerReply {
        let body = request.json
        switch (request.method, rest.count) {
        case ("POST", 0):
            guard let title = body?["title"]?.string, !title.isEmpty else {
                return .json(400, .object(["message": .string("title is missing")]))
            }
            let iid = (state.issues[project]?.map(\.iid).max() ?? 0) + 1
            let labels = body?["labels"]?.string?.split(separator: ",").map(String.init) ?? []
            state.issues[project, default: []].append(
                SimIssue(
                    iid: iid, title: title, description: body?["description"]?.string ?? "", labels: labels,
                    confidential: body?["confidential"]?.bool ?? false))
            return .json(
                201,
                .object([
                    "iid": .number(Double(iid)), "id": .number(Double(1000 + iid)), "state": .string("opened"), "title": .string(title),
                ]))
        case ("POST", 2) where rest[1] == "notes":
            guard let iid = Int(rest[0]), let index = state.issues[project]?.firstIndex(where: { $0.iid == iid }) else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            state.issues[project]![index].notes.append(body?["body"]?.string ?? "")
            return .json(201, .object(["id": .number(Double(state.issues[project]![index].notes.count))]))
        case ("PUT", 1):
            guard let iid = Int(rest[0]), let index = state.issues[project]?.firstIndex(where: { $0.iid == iid }) else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            if body?["state_event"]?.string == "close" { state.issues[project]![index].state = "closed" }
            return .json(200, .object(["iid": .number(Double(iid)), "state": .string(state.issues[project]![index].state)]))
        default:
            return .json(404, .object(["message": .string("404 Not found")]))
        }
    }

    /// A retried job runs: pending → running → the configured outcome after `pollsToFinish` looks.
    private static func advance(_ id: Int, in state: inout State) {
        guard let p = state.pipelines.firstIndex(where: { $0.jobs.contains { $0.id == id } }),
            let j = state.pipelines[p].jobs.firstIndex(where: { $0.id == id }),
            ["pending", "running"].contains(state.pipelines[p].jobs[j].status)
        else { return }
        state.polls[id, default: 0] += 1
        state.pipelines[p].jobs[j].status = state.polls[id]! >= state.pollsToFinish ? state.deployOutcome : "running"
        if state.pipelines[p].jobs[j].status == "success" { state.onDeploy?() }
    }

    private static func find(_ id: Int, in state: State) -> SimJob? { state.pipelines.flatMap(\.jobs).first { $0.id == id } }

    private static func json(_ job: SimJob) -> JSONValue {
        .object(["id": .number(Double(job.id)), "name": .string(job.name), "status": .string(job.status)])
    }

    private static func page(_ items: [JSONValue], _ request: ServerRequest, _ pageSize: Int) -> ServerReply {
        let perPage = min(pageSize, request.query["per_page"].flatMap(Int.init) ?? 20)
        let page = request.query["page"].flatMap(Int.init) ?? 1
        let slice = Array(items.dropFirst((page - 1) * perPage).prefix(perPage))
        let more = page * perPage < items.count
        return .json(200, .array(slice), headers: [("x-next-page", more ? String(page + 1) : ""), ("x-page", String(page))])
    }
}
