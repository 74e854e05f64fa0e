import HTTPServer
import ProbeResults
import Synchronization

/// A simulated LLM provider on 127.0.0.1: answers every request the way that provider answers
/// for the outcome currently set, and keeps the requests it saw.
public final class ProviderSimulator: Sendable {
    /// What the simulator does with the next requests.
    public enum Outcome: Sendable {
        /// Answer as the provider does for this probe result class, first byte after `latency`.
        case answer(ProbeClass, latency: Duration = .zero)
        /// The class as a server-sent event stream (see ``ProviderFlavor/streamReply(for:latency:)``).
        case stream(ProbeClass, latency: Duration = .zero)
        /// Exactly this reply.
        case custom(ServerReply)
        /// Whatever this returns for each request (e.g. drawn from a scenario's behaviour over time).
        case scripted(@Sendable (ServerRequest) -> ServerReply)
    }

    private final class State: Sendable {
        let locked: Mutex<(outcome: Outcome, requests: [ServerRequest])>
        init(_ outcome: Outcome) { locked = Mutex((outcome, [])) }
    }

    public let flavor: ProviderFlavor
    private let server: HTTPServer
    private let state: State

    public static func start(_ flavor: ProviderFlavor, outcome: Outcome = .answer(.ok)) async throws -> ProviderSimulator {
        let state = State(outcome)
        let server = try await HTTPServer.start { request in
            let outcome = state.locked.withLock { state in
                state.requests.append(request)
                if state.requests.count > 1000 { state.requests.removeFirst(state.requests.count - 1000) }
                return state.outcome
            }
            switch outcome {
            case .custom(let reply): return reply
            case .scripted(let respond): return respond(request)
            case .answer(let resultClass, let latency): return flavor.reply(for: resultClass, latency: latency)
            case .stream(let resultClass, let latency): return flavor.streamReply(for: resultClass, latency: latency)
            }
        }
        return ProviderSimulator(flavor: flavor, server: server, state: state)
    }

    private init(flavor: ProviderFlavor, server: HTTPServer, state: State) {
        self.flavor = flavor
        self.server = server
        self.state = state
    }

    public var port: Int { server.port }
    /// `http://127.0.0.1:<port>`
    public var baseURL: String { server.baseURL }

    public func set(_ outcome: Outcome) { state.locked.withLock { $0.outcome = outcome } }

    /// The requests received so far (the last 1000), oldest first.
    public var requests: [ServerRequest] { state.locked.withLock { $0.requests } }

    public func stop() async { await server.stop() }
}
