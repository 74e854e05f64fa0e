import ControlAPI
import HTTPServer
import Synchronization

/// A page receiver on 127.0.0.1 that answers like PagerDuty (`/v2/enqueue` → 202), Slack
/// (`/slack` → 200 `ok`) and a webhook (`/webhook` → 200), and keeps what it got. It can be down.
public final class PagerSink: Sendable {
    public struct Received: Sendable {
        public var path: String
        public var body: JSONValue
        public var authorization: String?
    }
    private final class Box: Sendable { let state = Mutex((received: [Received](), down: false)) }
    private let box: Box
    private let server: HTTPServer

    public static func start() async throws -> PagerSink {
        let box = Box()
        let server = try await HTTPServer.start { request in
            box.state.withLock { state in
                if state.down { return .reset }
                let path = String(request.uri.split(separator: "?")[0])
                state.received.append(Received(path: path, body: request.json ?? .null, authorization: request.header("authorization")))
                switch path {
                case "/v2/enqueue": return .json(202, .object(["status": .string("success"), "message": .string("Event processed")]))
                case "/slack": return .respond(status: 200, body: Array("ok".utf8))
                default: return .json(200, .object(["ok": .bool(true)]))
                }
            }
        }
        return PagerSink(box: box, server: server)
    }

    private init(box: Box, server: HTTPServer) {
        self.box = box
        self.server = server
    }

    public var url: String { server.baseURL }
    public var received: [Received] { box.state.withLock { $0.received } }
    /// While down, every connection is reset.
    public func setDown(_ down: Bool) { box.state.withLock { $0.down = down } }
    public func stop() async { await server.stop() }
}
