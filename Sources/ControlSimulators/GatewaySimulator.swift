import ControlAPI
import Foundation
import HTTPServer
import Synchronization

/// An AI Gateway on 127.0.0.1 that answers `GET /v1/models/definitions` as the real one does:
/// each feature's catalog defaults, replaced by the override that was in the secret when its
/// last deploy finished (``deploy(override:)``). Invalid override JSON stops a real gateway from
/// starting: the simulator then keeps serving what it served before.
public final class GatewaySimulator: Sendable {
    struct State {
        var served: [String: String] = [:]
        /// What was served before the last deploy, while a canary rollout is under way.
        var previous: [String: String] = [:]
        /// A canary rollout: one request in this many reaches a new instance; nil: every one.
        var canary: Int?
        var requests = 0
        var deploys = 0
        /// What `GET /metrics` answers (the gateway's own counters), when set.
        var metrics: (@Sendable () -> String)?
    }
    private final class Box: Sendable { let state = Mutex(State()) }

    /// Feature setting → its default models in the catalog, first first.
    public let catalog: [String: [String]]
    public let token: String?
    private let box: Box
    private let server: HTTPServer

    public static func start(catalog: [String: [String]], token: String? = nil) async throws -> GatewaySimulator {
        let box = Box()
        let server = try await HTTPServer.start { request in Self.handle(request, box: box, catalog: catalog, token: token) }
        return GatewaySimulator(catalog: catalog, token: token, box: box, server: server)
    }

    private init(catalog: [String: [String]], token: String?, box: Box, server: HTTPServer) {
        (self.catalog, self.token, self.box, self.server) = (catalog, token, box, server)
    }

    public var url: String { server.baseURL }
    public func stop() async { await server.stop() }
    /// Requests answered so far.
    public var requestCount: Int { box.state.withLock { $0.requests } }
    /// Deploys that started the gateway with a new override.
    public var deploys: Int { box.state.withLock { $0.deploys } }

    /// Serves `text()` on `GET /metrics` from now on, as the gateway exports its own counters.
    public func exportMetrics(_ text: @escaping @Sendable () -> String) { box.state.withLock { $0.metrics = text } }

    /// A canary rollout from now on: one request in `oneIn` is answered by a new instance, the
    /// rest by the old (nil: the rollout is done).
    public func setCanary(oneIn: Int?) { box.state.withLock { $0.canary = oneIn } }

    /// A deploy finished with `override` (the secret's value then; nil: no override).
    public func deploy(override: String?) {
        guard let override else {
            box.state.withLock {
                $0.previous = $0.served
                $0.served = [:]
                $0.deploys += 1
            }
            return
        }
        guard let json = JSONValue.parse(Array(override.utf8)), let object = json.object else { return }
        var served: [String: String] = [:]
        for (feature, value) in object {
            guard value.array != nil else { return }  // a wrong type stops the real gateway at start
            served[feature] = String(decoding: value.bytes, as: UTF8.self)
        }
        box.state.withLock {
            $0.previous = $0.served
            $0.served = served
            $0.deploys += 1
        }
    }

    /// What a feature's `default_models` is now.
    public func defaults(of feature: String) -> [String]? {
        let override = box.state.withLock { $0.served[feature] }
        return override.flatMap { JSONValue.parse(Array($0.utf8))?.array?.compactMap(\.string) } ?? catalog[feature]
    }

    private static func handle(_ request: ServerRequest, box: Box, catalog: [String: [String]], token: String?) -> ServerReply {
        if request.method == "GET", request.uri.split(separator: "?")[0] == "/metrics", let text = box.state.withLock({ $0.metrics }) {
            return .respond(status: 200, headers: [("content-type", "text/plain; version=0.0.4")], body: Array(text().utf8))
        }
        let served = box.state.withLock { state in
            state.requests += 1
            guard let canary = state.canary, state.requests % canary != 0 else { return state.served }
            return state.previous
        }
        if let token, request.header("authorization") != "Bearer \(token)" {
            return .json(401, .object(["detail": .string("Forbidden by auth provider")]))
        }
        guard request.method == "GET", request.uri.split(separator: "?")[0] == "/v1/models/definitions" else {
            return .json(404, .object(["detail": .string("Not Found")]))
        }
        var models = Set<String>()
        let primitives = catalog.keys.sorted().map { feature -> JSONValue in
            // Unknown feature keys are ignored; a key naming a feature replaces its whole list.
            let list = served[feature].flatMap { JSONValue.parse(Array($0.utf8))?.array?.compactMap(\.string) } ?? catalog[feature]!
            models.formUnion(list)
            return .object([
                "feature_setting": .string(feature), "default_model": list.first.map { .string($0) } ?? .null,
                "default_models": .array(list.map { .string($0) }), "selectable_models": .array([]), "models_for_tags": .object([:]),
            ])
        }
        let modelList = models.sorted().map { JSONValue.object(["name": .string($0), "identifier": .string($0)]) }
        return .json(200, .object(["models": .array(modelList), "unit_primitives": .array(primitives)]))
    }
}
