import ControlAPI
import HTTPServer
import Synchronization

/// The Kubernetes API server's Lease endpoints on 127.0.0.1: get, create (409 when it exists) and
/// update (409 unless `metadata.resourceVersion` is current), bearer tokens, and a partition
/// that cuts one token's requests off.
public final class LeaseSimulator: Sendable {
    struct State {
        var leases: [String: (version: Int, object: JSONValue)] = [:]
        var nextVersion = 1
        var partitioned: Set<String> = []
        /// Every holder the Lease had, in order (the same holder renewing is not repeated).
        var holders: [String] = []
        /// Lease writes (creates and renewals) that succeeded, per bearer token.
        var writes: [String: Int] = [:]
    }
    private final class Box: Sendable { let state = Mutex(State()) }

    public let tokens: [String]
    private let box: Box
    private let server: HTTPServer

    public static func start(tokens: [String]) async throws -> LeaseSimulator {
        let box = Box()
        let server = try await HTTPServer.start { request in Self.handle(request, box: box, tokens: tokens) }
        return LeaseSimulator(tokens: tokens, box: box, server: server)
    }

    private init(tokens: [String], box: Box, server: HTTPServer) {
        self.tokens = tokens
        self.box = box
        self.server = server
    }

    public var url: String { server.baseURL }
    public func stop() async { await server.stop() }

    /// Requests with this token get their connection reset (true) or are answered again (false).
    public func partition(_ token: String, _ cut: Bool) {
        box.state.withLock { state in
            if cut { state.partitioned.insert(token) } else { state.partitioned.remove(token) }
        }
    }

    public func holder(_ namespace: String, _ name: String) -> String? {
        box.state.withLock { $0.leases["\(namespace)/\(name)"]?.object["spec"]?["holderIdentity"]?.string }
    }

    public var holders: [String] { box.state.withLock { $0.holders } }
    /// Creates and renewals that succeeded with `token`.
    public func writes(with token: String) -> Int { box.state.withLock { $0.writes[token] ?? 0 } }

    private static func handle(_ request: ServerRequest, box: Box, tokens: [String]) -> ServerReply {
        box.state.withLock { state in
            guard let header = request.header("authorization"), header.hasPrefix("Bearer "), tokens.contains(String(header.dropFirst(7)))
            else {
                return status(401, "Unauthorized")
            }
            if state.partitioned.contains(String(header.dropFirst(7))) { return .reset }
            let parts = request.pathParts.map(String.init)
            guard parts.count >= 6, parts.prefix(4) == ["apis", "coordination.k8s.io", "v1", "namespaces"], parts[5] == "leases" else {
                return status(404, "NotFound")
            }
            let namespace = parts[4]
            switch (request.method, parts.count) {
            case ("GET", 7):
                guard let lease = state.leases["\(namespace)/\(parts[6])"] else { return status(404, "NotFound") }
                return .json(200, lease.object)
            case ("POST", 6):
                guard let body = request.json, let name = body["metadata"]?["name"]?.string else { return status(400, "BadRequest") }
                guard state.leases["\(namespace)/\(name)"] == nil else { return status(409, "AlreadyExists") }
                state.writes[String(header.dropFirst(7)), default: 0] += 1
                return store(body, key: "\(namespace)/\(name)", state: &state, status: 201)
            case ("PUT", 7):
                let key = "\(namespace)/\(parts[6])"
                guard let body = request.json, let current = state.leases[key] else { return status(404, "NotFound") }
                guard body["metadata"]?["resourceVersion"]?.string == String(current.version) else { return status(409, "Conflict") }
                state.writes[String(header.dropFirst(7)), default: 0] += 1
                return store(body, key: key, state: &state, status: 200)
            default:
                return status(405, "MethodNotAllowed")
            }
        }
    }

    private static func store(_ body: JSONValue, key: String, state: inout State, status: Int) -> ServerReply {
        let version = state.nextVersion
        state.nextVersion += 1
        var object = body.object ?? [:]
        var metadata = object["metadata"]?.object ?? [:]
        metadata["resourceVersion"] = .string(String(version))
        object["metadata"] = .object(metadata)
        state.leases[key] = (version, .object(object))
        if let holder = body["spec"]?["holderIdentity"]?.string, holder != state.holders.last { state.holders.append(holder) }
        return .json(status, .object(object))
    }

    private static func status(_ code: Int, _ reason: String) -> ServerReply {
        .json(
            code,
            .object(["kind": .string("Status"), "status": .string("Failure"), "reason": .string(reason), "code": .number(Double(code))]))
    }
}
