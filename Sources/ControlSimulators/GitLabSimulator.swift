import ControlAPI
import Foundation
import GitLabClient
import HTTPServer
import Synchronization
import Timekeeping

/// A GitLab REST server on 127.0.0.1 for one project: pipelines, jobs and trigger (bridge) jobs
/// (`trigger_jobs`, and the deprecated `bridges`), each trigger job's downstream pipeline, retries
/// (retried jobs hidden from the lists unless `include_retried`, as GitLab does), job progress,
/// branch head, deployments, CI variables with their attributes and scopes, issues and notes,
/// pagination and faults — and the permissions GitLab enforces (``GitLabAccess``): scopes, roles
/// per project, the downstream deploy created as the retrying user.
public final class GitLabSimulator: Sendable {
    /// The Runway deployments project, where every trigger job's downstream pipeline runs, and its branch.
    public static let deploymentsProject = "4242"
    public static let deploymentsBranch = "main"

    /// Who the token is and what its user may do, from now on.
    public func setAccess(_ access: GitLabAccess) { box.state.withLock { $0.access = access } }
    /// Changes who the token is and what its user may do.
    public func changeAccess(_ change: (inout GitLabAccess) -> Void) { box.state.withLock { change(&$0.access) } }

    public struct SimJob: Sendable {
        public var id: Int
        public var name: String
        public var status: String
        public var isBridge: Bool
        public var retryable: Bool
        /// A trigger job's downstream pipeline (its id in ``State/downstream``).
        public var downstream: Int?
        /// The environment the job deploys to (a protected one limits who may retry it).
        public var environment: String?
        /// Why a trigger job failed (`insufficient_bridge_permissions`, …).
        var failureReason: String?
        /// Looks it takes to start (a trigger job: to create its downstream pipeline); nil: the simulator's `pollsToFinish`.
        public var startsAfter: Int?
        /// Replaced by a retry: listed only with `include_retried=true`.
        var retried = false
        public init(
            id: Int, name: String, status: String = "success", isBridge: Bool = false, retryable: Bool = true, downstream: Int? = nil,
            environment: String? = nil
        ) {
            self.environment = environment
            self.id = id
            self.name = name
            self.status = status
            self.isBridge = isBridge
            self.retryable = retryable
            self.downstream = downstream
        }
    }
    /// A downstream (deploy) pipeline in the Runway deployments project.
    struct SimDownstream {
        var status: String
        var polls = 0
    }
    struct SimPipeline {
        var id: Int
        var sha: String
        var ref: String
        var jobs: [SimJob]
        var source = "push"
    }
    /// A successful deployment of an environment (what production runs).
    public struct SimDeployment: Sendable, Equatable {
        public var id: Int
        public var sha: String
        /// The pipeline and job that made it (nil: recorded by hand, as ``setDeployed(_:environment:)`` does).
        public var pipeline: Int?
        public var job: Int?
    }
    struct State: FaultyState {
        var head: [String: String] = [:]
        var pipelines: [SimPipeline] = []
        /// Environment → its successful deployments, oldest first.
        var deployments: [String: [SimDeployment]] = [:]
        /// Downstream pipeline id → the secret's value its deploy read when it started, for whom to serve it.
        var carried: [Int: (value: String?, serve: @Sendable (String?) -> Void)] = [:]
        /// Deploy job name → what a deploy reads when it starts (the secret), and what serves it once deployed.
        var readers: [String: (read: @Sendable () -> String?, serve: @Sendable (String?) -> Void)] = [:]
        /// Jobs a person (or the agent) played.
        var plays: [Int] = []
        /// GitLab's "prevent outdated deployment jobs": a deploy older than the environment's latest fails.
        var preventOutdated = true
        /// Pipelines whose deploys fail.
        var failingPipelines: Set<Int> = []
        /// "path@ref" → the file's text in the repository.
        var files: [String: String] = [:]
        /// Retries of a deploy job made while a newer pipeline's deploy of the same job was pending or
        /// running: the race the runbook warns about (the older image may land last).
        var racingRetries: [Int] = []
        /// Project → its issues (change requests).
        var issues: [String: [SimIssue]] = [:]
        /// Called when a retried deploy job succeeds, or a regular deployment happens: the sandbox
        /// gateway starts serving what the secret holds then.
        var onDeploy: [(job: String?, action: @Sendable () -> Void)] = []

        /// What runs when `job`'s deploy succeeds: the hooks for every job, and its own.
        func deployed(_ job: String) -> [@Sendable () -> Void] { onDeploy.filter { $0.job == nil || $0.job == job }.map(\.action) }
        /// (key, environment scope) → the variable.
        var variables: [String: CIVariable] = [:]
        var faults = Faults()
        /// How retried jobs (for a trigger job: its downstream pipeline) end.
        var deployOutcome = "success"
        /// Downstream pipeline id → its state.
        var downstream: [Int: SimDownstream] = [:]
        /// Whether `GET …/trigger_jobs` exists (GitLab 19.2+); `bridges` always does.
        var triggerJobsRoute = true
        /// Trigger jobs with `strategy: depend`: a trigger job takes its downstream pipeline's
        /// status, one look after that pipeline ended.
        var depend = false
        /// Jobs whose downstream deploy pipelines stay running (a deploy that hangs).
        var held: Set<String> = []
        /// Who the token is and what its user may do.
        var access = GitLabAccess()
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
    /// `source`: what started it (`push`, `web`, `schedule`, `api`, `security_orchestration_policy`).
    public func addPipeline(id: Int, sha: String, ref: String = "main", source: String = "push", jobs: [SimJob]) {
        box.state.withLock {
            $0.pipelines.append(SimPipeline(id: id, sha: sha, ref: ref, jobs: jobs, source: source))
            $0.head[ref] = sha
        }
    }
    /// Deploys of the job named `job` read `read()` (the secret) when they start, and `serve` it
    /// once their downstream pipeline succeeds — as a Runway deploy copies the secret at its start.
    public func deploys(job: String, read: @escaping @Sendable () -> String?, serve: @escaping @Sendable (String?) -> Void) {
        box.state.withLock { $0.readers[job] = (read, serve) }
    }
    /// The environment's successful deployments, oldest first.
    public func deployments(_ environment: String) -> [SimDeployment] { box.state.withLock { $0.deployments[environment] ?? [] } }
    /// Ids of the jobs played (`POST /jobs/:id/play`).
    public var plays: [Int] { box.state.withLock { $0.plays } }
    /// The repository holds `text` at `path` in commit `ref` (`*`: in every commit).
    public func setFile(_ path: String, ref: String, _ text: String) { box.state.withLock { $0.files[path + "@" + ref] = text } }
    /// Retries made while a newer pipeline's deploy of the same job was pending or running (should be none).
    public var racingRetries: [Int] { box.state.withLock { $0.racingRetries } }
    /// The downstream deploys of pipeline `id` fail from now on.
    public func failDeploys(ofPipeline id: Int) { box.state.withLock { _ = $0.failingPipelines.insert(id) } }
    /// Whether a deploy older than the environment's latest deployment fails (GitLab's "prevent outdated deployment jobs").
    public func setPreventOutdated(_ prevent: Bool) { box.state.withLock { $0.preventOutdated = prevent } }
    /// A newer commit on `ref` that has no pipeline yet.
    public func pushCommit(_ sha: String, ref: String = "main") { box.state.withLock { $0.head[ref] = sha } }
    public func setDeployed(_ sha: String, environment: String) {
        box.state.withLock { $0.recordDeployment(environment, sha: sha, pipeline: nil, job: nil) }
    }
    /// Called on every deployment from now on (see ``State/onDeploy``).
    public func onDeploy(_ action: @escaping @Sendable () -> Void) { box.state.withLock { $0.onDeploy.append((nil, action)) } }
    /// Called when the deploy job named `job` (one service of the pipeline) has deployed.
    public func onDeploy(job: String, _ action: @escaping @Sendable () -> Void) {
        box.state.withLock { $0.onDeploy.append((job, action)) }
    }
    /// The next regular deployment: a new pipeline at `sha` whose deploy job succeeded, deployed to `environment`.
    /// `downstream`: how its deploy pipeline stands (`running`: not deployed yet; no deploy happens).
    public func deployRegularly(
        pipeline id: Int, sha: String, jobName: String, environment: String? = nil, ref: String = "main", downstream: String = "success"
    ) {
        let hooks = box.state.withLock { state -> [@Sendable () -> Void] in
            let jobID = (state.pipelines.flatMap(\.jobs).map(\.id).max() ?? 0) + 1
            let downstreamID = Self.newDownstream(&state, status: downstream)
            state.pipelines.append(
                SimPipeline(
                    id: id, sha: sha, ref: ref,
                    jobs: [
                        SimJob(
                            id: jobID, name: jobName, status: "success", isBridge: true, downstream: downstreamID, environment: environment)
                    ]))
            state.head[ref] = sha
            // A deploy under way has read the secret already (as it stands now).
            if downstream == "running", let reader = state.readers[jobName] { state.carried[downstreamID] = (reader.read(), reader.serve) }
            guard downstream == "success" else { return [] }
            if let environment { state.recordDeployment(environment, sha: sha, pipeline: id, job: jobID) }
            return state.deployed(jobName)
        }
        for hook in hooks { hook() }
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
        box.state.withLock { $0.faults.add(method, fragment, .hang(carriedOut: carriedOut), times: times) }
    }
    /// Carry out the next `times` `method` requests whose URI contains `fragment`, and answer them
    /// with `status` as a proxy that lost the real answer does (nil `fragment`: no more).
    public func loseAnswer(_ method: String, _ fragment: String?, status: Int = 502, times: Int = 1) {
        box.state.withLock { $0.faults.add(method, fragment, .lost(status), times: times) }
    }
    /// Answer the next `times` `method` requests whose URI contains `fragment` with `status`, not carrying them out.
    public func fail(_ method: String, _ fragment: String, status: Int = 502, times: Int) {
        box.state.withLock { $0.faults.add(method, fragment, .status(status), times: times) }
    }
    public func failNext(_ count: Int, status: Int = 502) { box.state.withLock { $0.faults.failures = (count, status) } }
    /// Answers the next `count` requests `delay` late on `clock` (a virtual one: the clock moves on
    /// as the request is answered), as a slow GitLab within the client's timeout would.
    public func slowNext(_ count: Int, by delay: Duration, on clock: VirtualClock) {
        box.state.withLock { $0.faults.slow = (count, delay, clock) }
    }
    public func rateLimitNext(_ count: Int, retryAfter: Int?) { box.state.withLock { $0.faults.rateLimits = (count, retryAfter) } }
    /// The downstream deploys of the job named `job` hang (true) or run on (false).
    public func holdDeploys(of job: String, _ hold: Bool) {
        box.state.withLock { state in
            if hold { state.held.insert(job) } else { state.held.remove(job) }
        }
    }
    /// Trigger jobs with `strategy: depend` (see ``State/depend``).
    public func setDependStrategy(_ depend: Bool) { box.state.withLock { $0.depend = depend } }
    /// A downstream pipeline ends (or runs again) with `status`, as a person or Runway leaves it.
    public func setDownstreamStatus(_ id: Int, _ status: String) { box.state.withLock { $0.downstream[id]?.status = status } }
    /// Whether `trigger_jobs` is served (false: a GitLab older than 19.2, `bridges` only).
    public func setTriggerJobsRoute(_ served: Bool) { box.state.withLock { $0.triggerJobsRoute = served } }
    /// Variable key → value (every scope).
    public var variables: [String: String] {
        box.state.withLock { Dictionary($0.variables.values.map { ($0.key, $0.value) }) { a, _ in a } }
    }
    /// The variables with their attributes.
    public var variableDetails: [CIVariable] { box.state.withLock { Array($0.variables.values) } }
    /// A variable set by a person before the agent runs.
    public func setVariable(_ variable: CIVariable) {
        box.state.withLock { $0.variables[variable.key + "|" + variable.environmentScope] = variable }
    }
    /// A downstream pipeline's status now (nil: no such pipeline).
    public func downstreamStatus(_ id: Int) -> String? { box.state.withLock { $0.downstream[id]?.status } }
    /// Ids of the jobs retried so far.
    public var retries: [Int] { box.state.withLock { $0.retries } }
    public var requests: [ServerRequest] { box.state.withLock { $0.requests } }
    /// How many of the requests it saw from the `from`-th on `matching` takes (without copying them), and how many it saw.
    public func requestCount(from: Int = 0, _ matching: (ServerRequest) -> Bool) -> (matching: Int, seen: Int) {
        box.state.withLock { ($0.requests.dropFirst(from).count(where: matching), $0.requests.count) }
    }

    private static func handle(_ request: ServerRequest, box: Box, project: String, token: String) -> ServerReply {
        box.state.withLock { state in
            state.answer(request) { route(request, state: &$0, project: project, token: token) }
        }
    }

    private static func route(_ request: ServerRequest, state: inout State, project: String, token: String) -> ServerReply {
        state.requests.append(request)
        if let fault = state.faults.next() { return fault }
        guard request.header("private-token") == token, state.access.active else {
            return .json(401, .object(["message": .string("401 Unauthorized")]))
        }
        guard state.access.allows(request.method) else {
            return .json(
                403,
                .object([
                    "error": .string("insufficient_scope"),
                    "error_description": .string("The request requires higher privileges than provided by the access token."),
                ]))
        }
        let parts = request.pathParts.map { String($0).removingPercentEncoding ?? String($0) }
        if let reply = whoAmI(request, parts: parts, state: state, home: project) { return reply }
        guard parts.count >= 5, parts[0] == "api", parts[1] == "v4", parts[2] == "projects" else {
            return .json(404, .object(["message": .string("404 Not found")]))
        }
        let level = state.access.level(in: parts[3], home: project)
        // GitLab hides a private project from whoever is not a member.
        guard level > 0 else { return .json(404, .object(["message": .string("404 Project Not Found")])) }
        if parts[4] == "issues" {
            guard level >= 20 else { return .json(403, .object(["message": .string("403 Forbidden")])) }
            return issue(request, project: parts[3], rest: Array(parts[5...]), state: &state)
        }
        if parts[3] == deploymentsProject, request.method == "GET", parts.count == 6, parts[4] == "pipelines", let id = Int(parts[5]),
            let downstream = state.downstream[id]
        {
            return .json(
                200,
                .object([
                    "id": .number(Double(id)), "ref": .string(deploymentsBranch), "status": .string(downstream.status),
                    "project_id": .number(Double(deploymentsProject)!),
                ]))
        }
        guard parts[3] == project else { return .json(404, .object(["message": .string("404 Not found")])) }
        let rest = Array(parts[4...])
        if rest.first == "variables", level < 40 { return .json(403, .object(["message": .string("403 Forbidden")])) }
        switch (request.method, rest.count, rest.first) {
        case ("GET", 1, "pipelines"):
            let ref = request.query["ref"]
            let source = request.query["source"]
            let list = state.pipelines.filter { (ref == nil || $0.ref == ref) && (source == nil || $0.source == source) }
                .sorted { $0.id > $1.id }
            return page(
                list.map {
                    .object([
                        "id": .number(Double($0.id)), "sha": .string($0.sha), "ref": .string($0.ref), "status": .string("success"),
                        "source": .string($0.source),
                    ])
                }, request, state.pageSize)
        case ("GET", 4, "repository") where rest[1] == "files" && rest[3] == "raw":
            guard let text = state.files[rest[2] + "@" + (request.query["ref"] ?? "")] ?? state.files[rest[2] + "@*"] else {
                return .json(404, .object(["message": .string("404 File Not Found")]))
            }
            return .respond(status: 200, headers: [("content-type", "text/plain")], body: Array(text.utf8))
        case ("GET", 3, "repository") where rest[1] == "branches":
            guard let sha = state.head[rest[2]] else { return .json(404, .object(["message": .string("404 Branch Not Found")])) }
            return .json(200, .object(["name": .string(rest[2]), "commit": .object(["id": .string(sha)])]))
        case ("GET", 1, "deployments"):
            let list = request.query["environment"].flatMap { state.deployments[$0] } ?? []
            return page(
                list.reversed().map { deployment in
                    var object: [String: JSONValue] = [
                        "id": .number(Double(deployment.id)), "sha": .string(deployment.sha), "status": .string("success"),
                    ]
                    if let pipeline = deployment.pipeline, let job = deployment.job {
                        object["deployable"] = .object([
                            "id": .number(Double(job)),
                            "pipeline": .object(["id": .number(Double(pipeline)), "sha": .string(deployment.sha)]),
                        ])
                    }
                    return .object(object)
                }, request, state.pageSize)
        case ("GET", 3, "pipelines")
        where rest[2] == "jobs" || rest[2] == "bridges" || (rest[2] == "trigger_jobs" && state.triggerJobsRoute):
            guard let index = state.pipelines.firstIndex(where: { String($0.id) == rest[1] }) else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            let bridges = rest[2] != "jobs"
            let retried = request.query["include_retried"] == "true"
            for job in state.pipelines[index].jobs where job.isBridge == bridges { advance(job.id, in: &state, home: project) }
            let listed = state.pipelines[index].jobs.filter { $0.isBridge == bridges && (retried || !$0.retried) }
            return page(listed.map { json($0, state) }, request, state.pageSize)
        case ("GET", 2, "jobs"):
            guard let id = Int(rest[1]), let job = find(id, in: state), !job.isBridge else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            advance(id, in: &state, home: project)
            return .json(200, json(find(id, in: state)!, state))
        case ("POST", 3, "jobs") where rest[2] == "play":
            guard let id = Int(rest[1]), let p = state.pipelines.firstIndex(where: { $0.jobs.contains { $0.id == id } }),
                let j = state.pipelines[p].jobs.firstIndex(where: { $0.id == id })
            else { return .json(404, .object(["message": .string("404 Not found")])) }
            guard state.pipelines[p].jobs[j].status == "manual" else {
                return .json(400, .object(["message": .string("400 Unplayable Job")]))
            }
            state.plays.append(id)
            state.pipelines[p].jobs[j].status = "pending"
            return .json(200, json(state.pipelines[p].jobs[j], state))
        case ("POST", 3, "jobs") where rest[2] == "retry":
            guard let id = Int(rest[1]), let job = find(id, in: state) else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            // GitLab retries only the newest try of a job (`Ci::Processable#retryable?`): a retried one is refused.
            guard job.retryable, !job.retried else { return .json(403, .object(["message": .string(state.retryRefusal)])) }
            guard level >= 30, state.access.mayDeploy(to: job.environment) else {
                return .json(403, .object(["message": .string("403 Forbidden")]))
            }
            let newID = (state.pipelines.flatMap(\.jobs).map(\.id).max() ?? 0) + 1
            let index = state.pipelines.firstIndex { $0.jobs.contains { $0.id == id } }!
            let older = state.pipelines[index]
            let racing = state.pipelines.contains { newer in
                newer.id > older.id && newer.ref == older.ref
                    && newer.jobs.contains { other in
                        other.name == job.name && !other.retried
                            && (["created", "pending", "running", "waiting_for_resource"].contains(other.status)
                                || other.downstream.flatMap { state.downstream[$0]?.status } == "running")
                    }
            }
            if racing { state.racingRetries.append(id) }
            let retried = SimJob(id: newID, name: job.name, status: "pending", isBridge: job.isBridge, environment: job.environment)
            if let old = state.pipelines[index].jobs.firstIndex(where: { $0.id == id }) { state.pipelines[index].jobs[old].retried = true }
            state.pipelines[index].jobs.append(retried)
            state.retries.append(id)
            return .json(201, json(retried, state))
        case ("POST", 1, "variables"):
            guard let body = request.json, let key = body["key"]?.string, let value = body["value"]?.string else {
                return .json(400, .object(["message": .string("key and value required")]))
            }
            let scope = body["environment_scope"]?.string ?? "*"
            if state.variables[key + "|" + scope] != nil {
                return .json(400, .object(["message": .object(["key": .array([.string("(\(key)) has already been taken")])])]))
            }
            let variable = CIVariable(
                key: key, value: value, protected: body["protected"]?.bool ?? false, masked: body["masked"]?.bool ?? false,
                environmentScope: scope, description: body["description"]?.string)
            state.variables[key + "|" + scope] = variable
            return .json(201, json(variable))
        case (let method, 2, "variables"):
            // A key set in several scopes needs `filter[environment_scope]`, as GitLab asks.
            let matching = state.variables.filter {
                $0.value.key == rest[1]
                    && (request.query["filter[environment_scope]"] ?? $0.value.environmentScope) == $0.value.environmentScope
            }
            guard let (id, variable) = matching.first else { return .json(404, .object(["message": .string("404 Variable Not Found")])) }
            guard matching.count == 1 else {
                return .json(
                    409,
                    .object([
                        "message": .string("There are multiple variables with provided parameters. Please use 'filter[environment_scope]'")
                    ]))
            }
            switch method {
            case "GET": return .json(200, json(variable))
            case "PUT":
                if let value = request.json?["value"]?.string { state.variables[id]!.value = value }
                if let description = request.json?["description"] { state.variables[id]!.description = description.string }
                return .json(200, json(state.variables[id]!))
            case "DELETE":
                state.variables[id] = nil
                return .respond(status: 204)
            default: return .json(405, .object(["message": .string("405 Method Not Allowed")]))
            }
        default:
            return .json(404, .object(["message": .string("404 Not found")]))
        }
    }

    /// `POST issues`, `GET issues?search=…&in=description&state=opened`, `POST` and `GET issues/:iid/notes`,
    /// `PUT issues/:iid` (`state_event: close`).
    private static func issue(_ request: ServerRequest, project: String, rest: [String], state: inout State) -> ServerReply {
        let body = request.json
        switch (request.method, rest.count) {
        case ("GET", 0):
            // As GitLab: `in` names the fields searched (title and description unless it says), `state` filters.
            let search = request.query["search"] ?? ""
            let fields = (request.query["in"] ?? "title,description").split(separator: ",")
            let wanted = request.query["state"].flatMap { $0 == "all" ? nil : $0 }
            let found = (state.issues[project] ?? []).filter {
                (search.isEmpty || (fields.contains("description") && $0.description.contains(search))
                    || (fields.contains("title") && $0.title.contains(search))) && (wanted == nil || $0.state == wanted)
            }
            return page(
                found.reversed().map {
                    .object([
                        "iid": .number(Double($0.iid)), "title": .string($0.title), "description": .string($0.description),
                        "state": .string($0.state),
                    ])
                }, request, state.pageSize)
        case ("GET", 2) where rest[1] == "notes":
            guard let iid = Int(rest[0]), let issue = state.issues[project]?.first(where: { $0.iid == iid }) else {
                return .json(404, .object(["message": .string("404 Not found")]))
            }
            let notes = issue.notes.enumerated().map {
                JSONValue.object(["id": .number(Double($0.offset + 1)), "body": .string($0.element)])
            }
            return page(request.query["sort"] == "asc" ? notes : notes.reversed(), request, state.pageSize)
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
    /// A retried trigger job succeeds once it has created its downstream pipeline (no
    /// `strategy: depend`), and that pipeline runs to the configured outcome.
    private static func advance(_ id: Int, in state: inout State, home: String) {
        guard let p = state.pipelines.firstIndex(where: { $0.jobs.contains { $0.id == id } }),
            let j = state.pipelines[p].jobs.firstIndex(where: { $0.id == id })
        else { return }
        let job = state.pipelines[p].jobs[j]
        if let downstream = job.downstream {
            guard !state.held.contains(job.name) else { return }
            guard state.downstream[downstream]?.status == "running" else {
                if state.depend, let ended = state.downstream[downstream]?.status { state.pipelines[p].jobs[j].status = ended }
                return
            }
            state.downstream[downstream]!.polls += 1
            if state.downstream[downstream]!.polls >= state.pollsToFinish {
                let outcome = state.failingPipelines.contains(state.pipelines[p].id) ? "failed" : state.deployOutcome
                state.downstream[downstream]!.status = outcome
                if outcome == "success" {
                    let pipeline = state.pipelines[p]
                    if let environment = job.environment {
                        state.recordDeployment(environment, sha: pipeline.sha, pipeline: pipeline.id, job: job.id)
                    }
                    if let carried = state.carried.removeValue(forKey: downstream) { carried.serve(carried.value) }
                    for hook in state.deployed(job.name) { hook() }
                }
            }
            return
        }
        guard ["created", "pending", "running"].contains(job.status) else { return }
        state.polls[id, default: 0] += 1
        if job.isBridge {
            // A trigger job waits (created, pending) until it creates its downstream pipeline, and
            // is running only while it does (or, with `strategy: depend`, while that pipeline runs).
            guard state.polls[id]! >= job.startsAfter ?? state.pollsToFinish else {
                state.pipelines[p].jobs[j].status = "pending"
                return
            }
            // GitLab creates the downstream pipeline as the user who retried the trigger job.
            if let failure = state.access.bridgeFailure(downstream: deploymentsProject, branch: deploymentsBranch, home: home) {
                state.pipelines[p].jobs[j].status = "failed"
                state.pipelines[p].jobs[j].failureReason = failure
                return
            }
            // "Prevent outdated deployment jobs": a deploy of an older pipeline than the environment's latest fails.
            if state.preventOutdated, let environment = job.environment,
                let latest = state.deployments[environment]?.last?.pipeline, latest > state.pipelines[p].id
            {
                state.pipelines[p].jobs[j].status = "failed"
                state.pipelines[p].jobs[j].failureReason = "forward_deployment_failure"
                return
            }
            let downstream = newDownstream(&state, status: "running")
            // The deploy reads the secret as it starts.
            if let reader = state.readers[job.name] { state.carried[downstream] = (reader.read(), reader.serve) }
            state.pipelines[p].jobs[j].downstream = downstream
            state.pipelines[p].jobs[j].status = state.depend ? "running" : "success"
            return
        }
        state.pipelines[p].jobs[j].status = state.polls[id]! >= state.pollsToFinish ? state.deployOutcome : "running"
        if state.pipelines[p].jobs[j].status == "success" { for hook in state.deployed(job.name) { hook() } }
    }

    private static func newDownstream(_ state: inout State, status: String) -> Int {
        let id = 9000 + state.downstream.count + 1
        state.downstream[id] = SimDownstream(status: status)
        return id
    }

    private static func find(_ id: Int, in state: State) -> SimJob? { state.pipelines.flatMap(\.jobs).first { $0.id == id } }

    private static func json(_ job: SimJob, _ state: State) -> JSONValue {
        var object: [String: JSONValue] = ["id": .number(Double(job.id)), "name": .string(job.name), "status": .string(job.status)]
        if let reason = job.failureReason { object["failure_reason"] = .string(reason) }
        if job.isBridge {
            object["downstream_pipeline"] = .null
            if let id = job.downstream, let downstream = state.downstream[id] {
                object["downstream_pipeline"] = .object([
                    "id": .number(Double(id)), "project_id": .number(4242), "status": .string(downstream.status),
                    "web_url": .string("https://gitlab.example.com/runway/deployments/-/pipelines/\(id)"),
                ])
            }
        }
        return .object(object)
    }

    private static func json(_ variable: CIVariable) -> JSONValue {
        .object([
            "key": .string(variable.key), "value": .string(variable.value), "protected": .bool(variable.protected),
            "masked": .bool(variable.masked), "environment_scope": .string(variable.environmentScope),
            "description": variable.description.map { .string($0) } ?? .null, "variable_type": .string("env_var"),
        ])
    }

    private static func page(_ items: [JSONValue], _ request: ServerRequest, _ pageSize: Int) -> ServerReply {
        let perPage = min(pageSize, request.query["per_page"].flatMap(Int.init) ?? 20)
        let page = request.query["page"].flatMap(Int.init) ?? 1
        let slice = Array(items.dropFirst((page - 1) * perPage).prefix(perPage))
        let more = page * perPage < items.count
        return .json(200, .array(slice), headers: [("x-next-page", more ? String(page + 1) : ""), ("x-page", String(page))])
    }
}

extension GitLabSimulator.State {
    /// A successful deployment of `environment`.
    mutating func recordDeployment(_ environment: String, sha: String, pipeline: Int?, job: Int?) {
        let id = (deployments.values.flatMap { $0 }.map(\.id).max() ?? 0) + 1
        deployments[environment, default: []].append(.init(id: id, sha: sha, pipeline: pipeline, job: job))
    }
}
