/// A header as sent or received; names compare case-insensitively where it matters (``HTTPResponse/header(_:)``).
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One HTTP exchange to perform. TLS peer and host verification are always on.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]?
    /// The whole transfer, connect included; past it the transfer fails with ``TransferFailure/Kind/timeout``.
    public var timeout: Duration
    /// Bytes of body kept; past it the transfer stops and the response is marked ``HTTPResponse/truncated``.
    public var maxResponseBytes: Int
    /// Open a new connection (so the connect and TLS phases are measured) instead of reusing one.
    public var freshConnection: Bool

    public init(
        method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil,
        timeout: Duration = .seconds(10), maxResponseBytes: Int = 1 << 20, freshConnection: Bool = false
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.freshConnection = freshConnection
    }

    /// Method, URL and headers with credentials redacted: safe for logs and errors.
    public var redactedDescription: String {
        let shown = Redaction.redact(headers).map { "\($0.name): \($0.value)" }.joined(separator: ", ")
        return "\(method) \(Redaction.redact(url: url)) [\(shown)]"
    }
}
