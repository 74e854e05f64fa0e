import ControlAPI
import Foundation
import HTTPServer
import Synchronization
import Timekeeping

/// A Vault KV v2 server on 127.0.0.1: versioned secrets, check-and-set required on every write
/// (like a mount with `cas_required`), soft-deleted versions, `custom_metadata`, token and
/// namespace checks, the token's capabilities enforced per path and method as `vault/acl.go` does
/// (a merge patch needs `patch`, a write `create` or `update`), and faults;
/// with ``enableLogin(_:)``, a Kubernetes/JWT auth method issuing tokens that expire on a clock,
/// `renew-self` (capped at the max TTL) and `lookup-self`.
public final class VaultSimulator: Sendable {
    struct State: FaultyState {
        var versions: [String: [[String: JSONValue]]] = [:]
        var metadata: [String: [String: String]] = [:]
        var faults = Faults()
        var beforeNextWrite: (@Sendable (inout [String: JSONValue]) -> Void)?
        /// Another writer's change to `custom_metadata`, landing right before the next metadata write.
        var beforeNextMetadataWrite: (@Sendable (inout [String: String]) -> Void)?
        /// Whether `PATCH …/metadata/…` is served (Vault 1.9+).
        var patchable = true
        var requests: [ServerRequest] = []
        var login: Login?
        /// Issued token → when it was issued and when it expires, on the login's clock.
        var issued: [String: (issued: Duration, expires: Duration)] = [:]
        var logins = 0
        var renewals = 0
        var refusedRenewals = 0
        /// Requests answered 403.
        var refused = 0
        /// The token's capabilities on a path (`runway/data/…`), enforced and told by
        /// `sys/capabilities-self` (default: all the agent needs).
        var capabilities: [String: [String]] = [:]
        /// Path → its deleted (or destroyed) versions.
        var deleted: [String: Set<Int>] = [:]
        /// The static token's TTL as `lookup-self` tells it (Vault's default for token auth: 32 days).
        var staticTTL = 32 * 86_400
    }

    /// An auth method at `auth/<mount>/login` taking `{role, jwt}`.
    public struct Login: Sendable {
        public var mount: String
        public var role: String
        public var jwt: String
        public var ttl: Duration
        public var maxTTL: Duration
        public var clock: any AgentClock
        public init(mount: String = "kubernetes", role: String, jwt: String, ttl: Duration, maxTTL: Duration, clock: any AgentClock) {
            (self.mount, self.role, self.jwt, self.ttl, self.maxTTL, self.clock) = (mount, role, jwt, ttl, maxTTL, clock)
        }
    }
    private final class Box: Sendable { let state = Mutex(State()) }

    public let token: String
    public let namespace: String?
    private let box: Box
    private let server: HTTPServer

    public static func start(token: String = "hvs.sandbox-token", namespace: String? = nil) async throws -> VaultSimulator {
        let box = Box()
        let server = try await HTTPServer.start { request in Self.handle(request, box: box, token: token, namespace: namespace) }
        return VaultSimulator(token: token, namespace: namespace, box: box, server: server)
    }

    private init(token: String, namespace: String?, box: Box, server: HTTPServer) {
        self.token = token
        self.namespace = namespace
        self.server = server
        self.box = box
    }

    public var address: String { server.baseURL }
    public func stop() async { await server.stop() }

    /// Stores a version as if a person wrote it.
    public func put(_ path: String, _ data: [String: JSONValue]) { box.state.withLock { $0.versions[path, default: []].append(data) } }
    public func current(_ path: String) -> (version: Int, data: [String: JSONValue])? {
        box.state.withLock { s in s.versions[path].flatMap { $0.last.map { (s.versions[path]!.count, $0) } } }
    }
    /// Every version of `path`'s data, oldest first (deleted ones included).
    public func versions(_ path: String) -> [[String: JSONValue]] { box.state.withLock { $0.versions[path] ?? [] } }
    public func customMetadata(_ path: String) -> [String: String] { box.state.withLock { $0.metadata[path] ?? [:] } }
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
    /// Answers the next `count` requests with `status`.
    public func failNext(_ count: Int, status: Int = 503) { box.state.withLock { $0.faults.failures = (count, status) } }
    /// Answers the next `count` requests `delay` late on `clock` (a virtual one: the clock moves on
    /// as the request is answered), as a slow Vault within the client's timeout would.
    public func slowNext(_ count: Int, by delay: Duration, on clock: VirtualClock) {
        box.state.withLock { $0.faults.slow = (count, delay, clock) }
    }
    /// A person edits the secret right before the agent's next write lands.
    public func editBeforeNextWrite(_ edit: @escaping @Sendable (inout [String: JSONValue]) -> Void) {
        box.state.withLock { $0.beforeNextWrite = edit }
    }
    /// Another writer changes `custom_metadata` right before the agent's next metadata write lands.
    public func editMetadataBeforeNextWrite(_ edit: @escaping @Sendable (inout [String: String]) -> Void) {
        box.state.withLock { $0.beforeNextMetadataWrite = edit }
    }
    /// Whether the metadata PATCH is served (false: an older Vault answers 405).
    public func setMetadataPatch(_ served: Bool) { box.state.withLock { $0.patchable = served } }
    public var requests: [ServerRequest] { box.state.withLock { $0.requests } }
    /// How many of the requests it saw from the `from`-th on `matching` takes (without copying them), and how many it saw.
    public func requestCount(from: Int = 0, _ matching: (ServerRequest) -> Bool) -> (matching: Int, seen: Int) {
        box.state.withLock { ($0.requests.dropFirst(from).count(where: matching), $0.requests.count) }
    }
    /// Serves a login method; the identity token it accepts changes with ``Login/jwt`` (a rotation).
    public func enableLogin(_ login: Login) { box.state.withLock { $0.login = login } }
    /// Refuses the next `count` renewals (403), as Vault does for a token whose lease was revoked.
    public func refuseRenewals(_ count: Int) { box.state.withLock { $0.refusedRenewals = count } }
    /// Soft-deletes the latest version of `path`, as `DELETE …/data/…` does: its number stays the current version.
    public func deleteLatest(_ path: String) {
        box.state.withLock { state in
            guard let count = state.versions[path]?.count, count > 0 else { return }
            state.deleted[path, default: []].insert(count)
        }
    }
    /// The token's capabilities on `path` (e.g. `runway/data/…`) from now on: enforced on every
    /// request, and what `sys/capabilities-self` answers.
    public func setCapabilities(_ path: String, _ capabilities: [String]) { box.state.withLock { $0.capabilities[path] = capabilities } }
    /// The static token's TTL left, in seconds, as `lookup-self` tells it.
    public func setTokenTTL(_ seconds: Int) { box.state.withLock { $0.staticTTL = seconds } }
    /// Logins and renewals served.
    public var logins: Int { box.state.withLock { $0.logins } }
    public var renewals: Int { box.state.withLock { $0.renewals } }
    /// Requests it answered with 403 (a token or identity refused).
    public var refusedRequests: Int { box.state.withLock { $0.refused } }

    private static func handle(_ request: ServerRequest, box: Box, token: String, namespace: String?) -> ServerReply {
        box.state.withLock { state in
            state.answer(request) { state in
                let reply = route(request, state: &state, token: token, namespace: namespace)
                if case .respond(status: 403, _, _, _) = reply { state.refused += 1 }
                return reply
            }
        }
    }

    private static func route(_ request: ServerRequest, state: inout State, token: String, namespace: String?) -> ServerReply {
        state.requests.append(request)
        if let fault = state.faults.next() { return fault }
        let parts = request.pathParts
        let denied = ServerReply.json(403, .object(["errors": .array([.string("permission denied")])]))
        guard namespace == nil || request.header("x-vault-namespace") == namespace else { return denied }
        if let login = state.login, request.method == "POST", parts.map(String.init) == ["v1", "auth", login.mount, "login"] {
            return Self.logIn(request, login: login, state: &state)
        }
        let presented = request.header("x-vault-token") ?? ""
        let now = state.login?.clock.elapsed ?? .zero
        if presented != token, state.issued[presented].map({ $0.expires > now }) != true { return denied }
        if parts == ["v1", "auth", "token", "renew-self"], request.method == "POST" {
            return Self.renew(presented, state: &state, now: now)
        }
        if parts == ["v1", "auth", "token", "lookup-self"], request.method == "GET" {
            let ttl = state.issued[presented].map { Int(($0.expires - now).components.seconds) } ?? state.staticTTL
            return .json(200, .object(["data": .object(["ttl": .number(Double(ttl)), "renewable": .bool(true)])]))
        }
        if parts == ["v1", "sys", "capabilities-self"], request.method == "POST" {
            let paths = request.json?["paths"]?.array?.compactMap(\.string) ?? []
            var answer: [String: JSONValue] = [:]
            for path in paths { answer[path] = .array(state.granted(path).map { .string($0) }) }
            return .json(200, .object(answer.merging(["data": .object(answer)]) { a, _ in a }))
        }
        guard parts.count >= 4, parts[0] == "v1", parts[2] == "data" || parts[2] == "metadata" else {
            return .json(404, .object(["errors": .array([])]))
        }
        let path = parts[3...].joined(separator: "/")
        let exists = state.versions[path]?.isEmpty == false
        let needed: String =
            switch (request.method, parts[2]) {
            case ("GET", _): "read"
            case ("PATCH", _): "patch"
            case ("DELETE", _): "delete"
            case (_, "data"): exists ? "update" : "create"
            default: exists || state.metadata[path] != nil ? "update" : "create"
            }
        let granted = state.granted("\(parts[1])/\(parts[2])/\(path)")
        guard !granted.contains("deny"), granted.contains("root") || granted.contains(needed) else { return denied }
        switch (request.method, parts[2]) {
        case ("GET", "data"):
            guard let versions = state.versions[path], !versions.isEmpty else { return .json(404, .object(["errors": .array([])])) }
            let number = request.query["version"].flatMap(Int.init) ?? versions.count
            guard (1...versions.count).contains(number) else { return .json(404, .object(["errors": .array([])])) }
            if state.deleted[path]?.contains(number) == true {
                // Vault answers a deleted version with 404, its metadata still in the body.
                return .json(
                    404,
                    .object([
                        "data": .object([
                            "data": .null,
                            "metadata": .object([
                                "version": .number(Double(number)), "deletion_time": .string("2026-12-01T00:00:00.000000Z"),
                                "destroyed": .bool(false),
                            ]),
                        ])
                    ]))
            }
            return .json(
                200,
                .object([
                    "data": .object(["data": .object(versions[number - 1]), "metadata": .object(["version": .number(Double(number))])])
                ]))
        case ("POST", "data"):
            guard let body = request.json, let data = body["data"]?.object else {
                return .json(400, .object(["errors": .array([.string("no data")])]))
            }
            if let edit = state.beforeNextWrite {
                state.beforeNextWrite = nil
                var latest = state.versions[path]?.last ?? [:]
                edit(&latest)
                state.versions[path, default: []].append(latest)
            }
            guard let cas = body["options"]?["cas"]?.int else {
                return .json(400, .object(["errors": .array([.string("check-and-set parameter required for this call")])]))
            }
            guard cas == state.versions[path]?.count ?? 0 else {
                return .json(400, .object(["errors": .array([.string("check-and-set parameter did not match the current version")])]))
            }
            state.versions[path, default: []].append(data)
            return .json(200, .object(["data": .object(["version": .number(Double(state.versions[path]!.count))])]))
        case ("GET", "metadata"):
            guard state.versions[path] != nil || state.metadata[path] != nil else { return .json(404, .object(["errors": .array([])])) }
            return .json(
                200,
                .object([
                    "data": .object([
                        "custom_metadata": .object((state.metadata[path] ?? [:]).mapValues { .string($0) }),
                        "current_version": .number(Double(state.versions[path]?.count ?? 0)),
                    ])
                ]))
        case ("POST", "metadata"):
            let custom = request.json?["custom_metadata"]?.object?.compactMapValues(\.string) ?? [:]
            if custom.values.contains(where: { $0.utf8.count > 512 }) || custom.count > 64 {
                return .json(400, .object(["errors": .array([.string("custom_metadata: value too long or too many keys")])]))
            }
            if let edit = state.beforeNextMetadataWrite {
                state.beforeNextMetadataWrite = nil
                var theirs = state.metadata[path] ?? [:]
                edit(&theirs)
                state.metadata[path] = theirs
            }
            state.metadata[path] = custom
            return .respond(status: 204)
        case ("PATCH", "metadata") where state.patchable:
            guard state.versions[path] != nil || state.metadata[path] != nil else { return .json(404, .object(["errors": .array([])])) }
            // A JSON merge patch: named entries set, null ones removed, the others kept.
            guard request.header("content-type") == "application/merge-patch+json" else {
                return .json(415, .object(["errors": .array([.string("unsupported content type")])]))
            }
            if let edit = state.beforeNextMetadataWrite {
                state.beforeNextMetadataWrite = nil
                edit(&state.metadata[path, default: [:]])
            }
            var custom = state.metadata[path] ?? [:]
            for (key, value) in request.json?["custom_metadata"]?.object ?? [:] { custom[key] = value.string }
            if custom.values.contains(where: { $0.utf8.count > 512 }) || custom.count > 64 {
                return .json(400, .object(["errors": .array([.string("custom_metadata: value too long or too many keys")])]))
            }
            state.metadata[path] = custom
            return .respond(status: 204)
        default:
            return .json(405, .object(["errors": .array([])]))
        }
    }

    private static func logIn(_ request: ServerRequest, login: Login, state: inout State) -> ServerReply {
        guard request.json?["role"]?.string == login.role, request.json?["jwt"]?.string == login.jwt else {
            return .json(403, .object(["errors": .array([.string("permission denied")])]))
        }
        state.logins += 1
        let token = "hvs.login-\(state.logins)"
        let now = login.clock.elapsed
        state.issued[token] = (now, now + login.ttl)
        return .json(200, authAnswer(token, ttl: login.ttl))
    }

    private static func renew(_ token: String, state: inout State, now: Duration) -> ServerReply {
        guard let login = state.login, let lease = state.issued[token], state.refusedRenewals == 0 else {
            state.refusedRenewals = max(0, state.refusedRenewals - 1)
            return .json(403, .object(["errors": .array([.string("permission denied")])]))
        }
        // A renewal runs the TTL again from now, capped at the max TTL from the login.
        let expires = min(now + login.ttl, lease.issued + login.maxTTL)
        state.issued[token] = (lease.issued, expires)
        state.renewals += 1
        return .json(200, authAnswer(token, ttl: expires - now))
    }

    private static func authAnswer(_ token: String, ttl: Duration) -> JSONValue {
        .object([
            "auth": .object([
                "client_token": .string(token), "lease_duration": .number(Double(ttl.components.seconds)), "renewable": .bool(true),
                "policies": .array([.string("failover-agent")]),
            ])
        ])
    }
}

extension VaultSimulator.State {
    /// The token's capabilities on `path` (mount included).
    func granted(_ path: String) -> [String] { capabilities[path] ?? ["create", "read", "update", "patch", "delete"] }
}
