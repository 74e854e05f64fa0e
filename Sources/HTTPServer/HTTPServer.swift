import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as the server received it.
public struct ServerRequest: Sendable {
    public var method: String
    /// Path and query, e.g. `/v1/messages`.
    public var uri: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// How the server answers one request.
public enum ServerReply: Sendable {
    /// An HTTP answer, sent after `delay`.
    case respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], delay: Duration = .zero)
    /// Never answer; the connection stays open until the client gives up.
    case hang
    /// Drop the connection with a TCP reset.
    case reset
    /// Close the connection without answering.
    case close

    /// A JSON answer.
    public static func json(_ status: Int, _ body: String, headers: [(String, String)] = [], delay: Duration = .zero) -> ServerReply {
        .respond(status: status, headers: [("content-type", "application/json")] + headers, body: Array(body.utf8), delay: delay)
    }
}

/// A small HTTP/1.1 server (SwiftNIO) that answers each request as `handler` says: the simulators
/// on 127.0.0.1 and the agent's own API use it.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (ServerRequest) -> ServerReply
    public typealias AsyncHandler = @Sendable (ServerRequest) async -> ServerReply

    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let counter: ConnectionCounter

    /// Binds `host` (`port` 0 picks a free one) and starts serving, answering from `handler`.
    public static func start(host: String = "127.0.0.1", port: Int = 0, threads: Int = 1, handler: @escaping Handler) async throws -> HTTPServer {
        try await start(host: host, port: port, threads: threads, respond: .sync(handler))
    }

    /// The same, for a handler that must await (e.g. it calls other services).
    public static func start(host: String = "127.0.0.1", port: Int = 0, threads: Int = 1, asyncHandler: @escaping AsyncHandler) async throws -> HTTPServer {
        try await start(host: host, port: port, threads: threads, respond: .async(asyncHandler))
    }

    enum Responder: Sendable {
        case sync(Handler)
        case async(AsyncHandler)
    }

    private static func start(host: String, port: Int, threads: Int, respond handler: Responder) async throws -> HTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let counter = ConnectionCounter()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    counter.value.add(1, ordering: .relaxed)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(SandboxHandler(handler: handler))
                    }
                }
                .bind(host: host, port: port).get()
            return HTTPServer(port: channel.localAddress?.port ?? port, group: group, channel: channel, counter: counter)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, counter: ConnectionCounter) {
        self.port = port
        self.counter = counter
        self.group = group
        self.channel = channel
    }

    /// `http://127.0.0.1:<port>` (for a server bound to loopback or to every address).
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Connections accepted so far.
    public var acceptedConnections: Int { counter.value.load(ordering: .relaxed) }

    /// Stops listening and closes every connection, hanging ones included.
    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class SandboxHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handler: HTTPServer.Responder
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(handler: HTTPServer.Responder) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = ServerRequest(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            switch handler {
            case .sync(let respond): act(respond(request), keepAlive: head.isKeepAlive, context: context)
            case .async(let respond):
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let keepAlive = head.isKeepAlive
                let loop = context.eventLoop
                Task {
                    let reply = await respond(request)
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.act(reply, keepAlive: keepAlive, context: context)
                    }
                }
            }
        }
    }

    private func act(_ reply: ServerReply, keepAlive: Bool, context: ChannelHandlerContext) {
        switch reply {
        case .hang: break
        case .close: context.close(promise: nil)
        case .reset:
            let channel = context.channel
            if let sockets = channel as? any SocketOptionProvider {
                sockets.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
            } else {
                channel.close(promise: nil)
            }
        case .respond(let status, let headers, let body, let delay):
            if delay <= .zero {
                write(status: status, headers: headers, body: body, keepAlive: keepAlive, context: context)
            } else {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay / .nanoseconds(1)))) {
                    let (handler, context) = bound.value
                    handler.write(status: status, headers: headers, body: body, keepAlive: keepAlive, context: context)
                }
            }
        }
    }

    private func write(status: Int, headers: [(String, String)], body: [UInt8], keepAlive: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var fields = HTTPHeaders(headers)
        fields.replaceOrAdd(name: "content-length", value: String(body.count))
        if !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
    }
}

private final class ConnectionCounter: Sendable {
    let value = Atomic<Int>(0)
}
