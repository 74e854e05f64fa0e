import ControlAPI
import HTTPServer
import Selection
import Synchronization
import Timekeeping
import TrafficClient

/// The gateway's Prometheus as the agent's traffic source reads it (`/api/v1/query`), answering
/// on a virtual clock: each provider's requests over the 30 s window, the share failing that
/// ``setFailureRate(_:)`` says at the newest sample, which is 15 s old (the scrape's lag). Its
/// ``Trouble`` makes it down (503), stale (the newest sample stops moving) or implausible (every
/// provider failing at once).
public final class PrometheusSimulator: Sendable {
    /// The counting window the agent's traffic source should use (its `interval`).
    public static let window = 30.0
    static let requestsPerWindow = 150.0

    /// How the traffic source goes wrong.
    public enum Trouble: String, Sendable, CaseIterable {
        /// It answers 503.
        case down
        /// Its newest sample stops moving: old counts, fresh-looking answers.
        case stale
        /// Every provider fails at once in its counts (a broken exporter or scrape).
        case allFailing
    }

    private struct State {
        var failureRate: @Sendable (_ provider: String, _ at: Double) -> Double = { _, _ in 0.002 }
        var trouble: Trouble?
        var staleSince: Double?
    }
    private let state = Mutex(State())
    private let server: HTTPServer
    private let clock: VirtualClock
    /// Per provider, the labels of a series of the gateway's counters that speaks for it.
    private let labels: [String: [String: String]]

    private init(server: HTTPServer, clock: VirtualClock, labels: [String: [String: String]]) {
        (self.server, self.clock, self.labels) = (server, clock, labels)
    }

    /// Serves `providers`' counters, each as the gateway labels a model of `catalog` it serves.
    public static func start(clock: VirtualClock, catalog: ModelCatalog, providers: [String]) async throws -> PrometheusSimulator {
        let mapping = TrafficMapping(catalog: catalog, subjects: Set(providers))
        var labels: [String: [String: String]] = [:]
        for model in catalog.models where model.isManaged {
            let name = model.serving.model ?? model.id
            for engine in ["anthropic-chat", "vertex-ai", "litellm-chat"] {
                guard let subject = mapping.subject(engine: engine, model: name), labels[subject] == nil else { continue }
                labels[subject] = ["model_engine": engine, "model_name": name]
            }
        }
        let box = Mutex<PrometheusSimulator?>(nil)
        let server = try await HTTPServer.start { request in
            box.withLock { $0 }?.answer(request.uri) ?? .reset
        }
        let prometheus = PrometheusSimulator(server: server, clock: clock, labels: labels)
        box.withLock { $0 = prometheus }
        return prometheus
    }

    public var url: String { server.baseURL }

    /// The share of each provider's requests failing at a time on the clock (default 0.2 %).
    public func setFailureRate(_ rate: @escaping @Sendable (_ provider: String, _ at: Double) -> Double) {
        state.withLock { $0.failureRate = rate }
    }

    /// Its trouble from now on (nil: none).
    public func setTrouble(_ trouble: Trouble?) {
        let now = clock.seconds
        state.withLock { state in
            if trouble == .stale, state.trouble != .stale { state.staleSince = now }
            state.trouble = trouble
        }
    }

    public func stop() async { await server.stop() }

    private func answer(_ uri: String) -> ServerReply {
        let now = clock.seconds
        let (failureRate, trouble, staleSince) = state.withLock { ($0.failureRate, $0.trouble, $0.staleSince) }
        if trouble == .down { return .json(503, #"{"status":"error","error":"unavailable"}"#) }
        // The newest sample, as Unix time; stale: stuck where the trouble found it.
        let newest = (trouble == .stale ? staleSince ?? now : now) - 15
        if uri.contains("timestamp") {
            return Self.vector([(labels: [:], value: clock.origin + newest)], at: clock.origin + now)
        }
        var series: [(labels: [String: String], value: Double)] = []
        for (provider, labels) in labels.sorted(by: { $0.key < $1.key }) {
            let failures = (trouble == .allFailing ? 1.0 : failureRate(provider, newest)) * Self.requestsPerWindow
            series.append((labels.merging(["error": "no"]) { a, _ in a }, Self.requestsPerWindow - failures))
            series.append((labels.merging(["error": "yes", "error_type": "server_error"]) { a, _ in a }, failures))
        }
        return Self.vector(series, at: clock.origin + now)
    }

    private static func vector(_ series: [(labels: [String: String], value: Double)], at time: Double) -> ServerReply {
        let result = series.map { item in
            JSONValue.object([
                "metric": .object(item.labels.mapValues { .string($0) }), "value": .array([.number(time), .string(String(item.value))]),
            ])
        }
        let body = JSONValue.object([
            "status": .string("success"), "data": .object(["resultType": .string("vector"), "result": .array(result)]),
        ])
        return .respond(status: 200, headers: [("content-type", "application/json")], body: body.bytes)
    }
}
