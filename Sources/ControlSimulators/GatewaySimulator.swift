import ControlAPI
import Foundation
import HTTPServer
import Selection
import Synchronization

/// The catalog a deployed gateway image was built with: its models, and each feature's defaults
/// and selectable models. It can differ from the files the agent was given (DESIGN.md, "The
/// deployed catalog is the truth").
public struct GatewayImage: Sendable, Equatable {
    public var models: [String]
    /// Feature setting → its `default_models` in the image.
    public var defaults: [String: [String]]
    /// Feature setting → its `selectable_models` (empty: any).
    public var selectable: [String: [String]]

    public init(models: [String], defaults: [String: [String]], selectable: [String: [String]] = [:]) {
        (self.models, self.defaults, self.selectable) = (models, defaults, selectable)
    }

    /// An image built from the same files as the agent's planner.
    public init(_ planner: Planner) {
        self.init(
            models: planner.catalog.models.map(\.id),
            defaults: Dictionary(uniqueKeysWithValues: planner.features.map { ($0.setting, $0.defaultModels) }),
            selectable: Dictionary(uniqueKeysWithValues: planner.features.map { ($0.setting, $0.selectableModels) }))
    }

    /// The same image without `model` (an older image, or one that dropped it).
    public func without(_ model: String) -> GatewayImage {
        GatewayImage(
            models: models.filter { $0 != model }, defaults: defaults,
            selectable: selectable.mapValues { list in list.filter { $0 != model } })
    }
}

/// An AI Gateway on 127.0.0.1 that answers `GET /v1/models/definitions` as the real one does:
/// each feature's defaults in its image, replaced by the override that was in the secret when its
/// last deploy finished (``deploy(override:)``), with the image's models and selectable models.
/// Like the real one it starts with any override that parses — an unknown model is listed as a
/// default, a model outside `selectable_models` too — and an empty list makes the endpoint
/// answer 500. Invalid override JSON stops a real gateway from starting: the simulator then
/// keeps serving what it served before.
public final class GatewaySimulator: Sendable {
    struct State {
        /// The image deployed now.
        var image: GatewayImage
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
    private final class Box: Sendable {
        let state: Mutex<State>
        init(_ image: GatewayImage) { state = Mutex(State(image: image)) }
    }

    public let token: String?
    private let box: Box
    private let server: HTTPServer

    public static func start(image: GatewayImage, token: String? = nil) async throws -> GatewaySimulator {
        let box = Box(image)
        let server = try await HTTPServer.start { request in Self.handle(request, box: box, token: token) }
        return GatewaySimulator(token: token, box: box, server: server)
    }

    private init(token: String?, box: Box, server: HTTPServer) {
        (self.token, self.box, self.server) = (token, box, server)
    }

    /// The image deployed now; ``setImage(_:)`` deploys another (a newer or older build).
    public var image: GatewayImage { box.state.withLock { $0.image } }
    public func setImage(_ image: GatewayImage) { box.state.withLock { $0.image = image } }

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
        let (override, image) = box.state.withLock { ($0.served[feature], $0.image) }
        return override.flatMap { JSONValue.parse(Array($0.utf8))?.array?.compactMap(\.string) } ?? image.defaults[feature]
    }

    private static func handle(_ request: ServerRequest, box: Box, token: String?) -> ServerReply {
        if request.method == "GET", request.uri.split(separator: "?")[0] == "/metrics", let text = box.state.withLock({ $0.metrics }) {
            return .respond(status: 200, headers: [("content-type", "text/plain; version=0.0.4")], body: Array(text().utf8))
        }
        let (served, image) = box.state.withLock { state in
            state.requests += 1
            guard let canary = state.canary, state.requests % canary != 0 else { return (state.served, state.image) }
            return (state.previous, state.image)
        }
        if let token, request.header("authorization") != "Bearer \(token)" {
            return .json(401, .object(["detail": .string("Forbidden by auth provider")]))
        }
        guard request.method == "GET", request.uri.split(separator: "?")[0] == "/v1/models/definitions" else {
            return .json(404, .object(["detail": .string("Not Found")]))
        }
        var primitives: [JSONValue] = []
        for feature in image.defaults.keys.sorted() {
            // Unknown feature keys are ignored; a key naming a feature replaces its whole list.
            let list = served[feature].flatMap { JSONValue.parse(Array($0.utf8))?.array?.compactMap(\.string) } ?? image.defaults[feature]!
            guard !list.isEmpty else { return .json(500, .object(["detail": .string("Internal Server Error")])) }
            primitives.append(
                .object([
                    "feature_setting": .string(feature), "default_model": .string(list[0]),
                    "default_models": .array(list.map { .string($0) }),
                    "selectable_models": .array((image.selectable[feature] ?? []).map { .string($0) }), "models_for_tags": .object([:]),
                ]))
        }
        let modelList = image.models.map { JSONValue.object(["name": .string($0), "identifier": .string($0)]) }
        return .json(200, .object(["models": .array(modelList), "unit_primitives": .array(primitives)]))
    }
}
