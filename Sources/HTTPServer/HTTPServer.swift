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

/// One piece of a streamed answer, sent `delay` after the previous one.
public struct StreamChunk: Sendable {
    public var delay: Duration
    public var bytes: [UInt8]
    public init(after delay: Duration = .zero, _ text: String) { (self.delay, self.bytes) = (delay, Array(text.utf8)) }
    public init(after delay: Duration = .zero, bytes: [UInt8]) { (self.delay, self.bytes) = (delay, bytes) }
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
    /// A 200-style answer sent in pieces (chunked), each after its delay; `end: false` drops the
    /// connection after the last piece instead of ending the body (a stream cut short).
    case stream(status: Int, headers: [(String, String)] = [], chunks: [StreamChunk], end: Bool = true)

    /// A JSON answer.
    public static func json(_ status: Int, _ body: String, headers: [(String, String)] = [], delay: Duration = .zero) -> ServerReply {
        .respond(status: status, headers: [("content-type", "application/json")] + headers, body: Array(body.utf8), delay: delay)
    }
}

/// Bounds for a server that faces clients it does not trust (the agent's API). The simulators run
/// without them, so they can hang on purpose.
public struct ServerLimits: Sendable {
    /// A request body larger than this is answered 413 and the connection closed, without reading it.
    public var maxBodyBytes: Int
    /// A connection with nothing read or written for this long is closed (half-sent requests included).
    public var idleTimeout: Duration
    /// Connections open at once; past it a new one is closed at once.
    public var maxConnections: Int
    /// Looks at a request's head before its body is read: a reply refuses it (e.g. 401) unread.
    public var admit: @Sendable (_ method: String, _ uri: String, _ headers: [(name: String, value: String)]) -> ServerReply?

    public init(
        maxBodyBytes: Int = 64 << 10, idleTimeout: Duration = .seconds(30), maxConnections: Int = 256,
        admit: @escaping @Sendable (_ method: String, _ uri: String, _ headers: [(name: String, value: String)]) -> ServerReply? = {
            _, _, _ in nil
        }
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.admit = admit
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
    public static func start(host: String = "127.0.0.1", port: Int = 0, threads: Int = 1, handler: @escaping Handler) async throws
        -> HTTPServer
    {
        try await start(host: host, port: port, threads: threads, respond: .sync(handler))
    }

    /// The same, for a handler that must await (e.g. it calls other services), with optional `limits`.
    public static func start(
        host: String = "127.0.0.1", port: Int = 0, threads: Int = 1, limits: ServerLimits? = nil, asyncHandler: @escaping AsyncHandler
    ) async throws -> HTTPServer {
        try await start(host: host, port: port, threads: threads, limits: limits, respond: .async(asyncHandler))
    }

    enum Responder: Sendable {
        case sync(Handler)
        case async(AsyncHandler)
    }

    private static func start(host: String, port: Int, threads: Int, limits: ServerLimits? = nil, respond handler: Responder) async throws
        -> HTTPServer
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let counter = ConnectionCounter()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    counter.value.add(1, ordering: .relaxed)
                    let open = counter.open.add(1, ordering: .relaxed).newValue
                    channel.closeFuture.whenComplete { _ in counter.open.subtract(1, ordering: .relaxed) }
                    if let limits, open > limits.maxConnections { return channel.close() }
                    return channel.eventLoop.makeCompletedFuture {
                        if let limits {
                            let idle = TimeAmount.nanoseconds(Int64(limits.idleTimeout / .nanoseconds(1)))
                            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(SandboxHandler(handler: handler, limits: limits))
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
    private let limits: ServerLimits?
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Set once a request was refused unread: the rest of it is ignored and the connection closes.
    private var refused = false

    init(handler: HTTPServer.Responder, limits: ServerLimits? = nil) {
        self.handler = handler
        self.limits = limits
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
            guard let limits else { return }
            let declared = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            if let reply = limits.admit(head.method.rawValue, head.uri, head.headers.map { ($0.name, $0.value) }) {
                refuse(reply, context: context)
            } else if declared > limits.maxBodyBytes {
                refuse(.json(413, #"{"ok":false,"message":"request body too large"}"#), context: context)
            }
        case .body(var buffer):
            if let limits, body.count + buffer.readableBytes > limits.maxBodyBytes {
                refuse(.json(413, #"{"ok":false,"message":"request body too large"}"#), context: context)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = ServerRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
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

    private func refuse(_ reply: ServerReply, context: ChannelHandlerContext) {
        refused = true
        body = []
        act(reply, keepAlive: false, context: context)
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
        case .stream(let status, let headers, let chunks, let end):
            guard context.channel.isActive else { return }
            var fields = HTTPHeaders(headers)
            fields.remove(name: "content-length")
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields))),
                promise: nil)
            send(chunks[...], end: end, context: context)
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

    /// Sends the next piece after its delay, then the rest; then ends the body or drops the connection.
    private func send(_ chunks: ArraySlice<StreamChunk>, end: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        guard let next = chunks.first else {
            if end {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                context.close(promise: nil)
            }
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .nanoseconds(Int64(next.delay / .nanoseconds(1)))) {
            let (handler, context) = bound.value
            guard context.channel.isActive else { return }
            context.writeAndFlush(
                handler.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: next.bytes)))), promise: nil)
            handler.send(chunks.dropFirst(), end: end, context: context)
        }
    }

    private func write(status: Int, headers: [(String, String)], body: [UInt8], keepAlive: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var fields = HTTPHeaders(headers)
        fields.replaceOrAdd(name: "content-length", value: String(body.count))
        if !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
    }
}

private final class ConnectionCounter: Sendable {
    let value = Atomic<Int>(0)
    let open = Atomic<Int>(0)
}
