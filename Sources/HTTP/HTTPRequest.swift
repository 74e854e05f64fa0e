/// A header as sent or received; names compare case-insensitively where it matters (``HTTPResponse/header(_:)``).
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// AWS Signature Version 4, computed by libcurl (`CURLOPT_AWS_SIGV4`).
public struct AWSSigV4: Sendable, Hashable {
    public var region: String
    public var service: String
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Temporary credentials: sent, and signed, as `x-amz-security-token`.
    public var sessionToken: String?

    public init(region: String, service: String, accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.region = region
        self.service = service
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
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
    public var awsSigV4: AWSSigV4?

    public init(
        method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil,
        timeout: Duration = .seconds(10), maxResponseBytes: Int = 1 << 20, freshConnection: Bool = false,
        awsSigV4: AWSSigV4? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.freshConnection = freshConnection
        self.awsSigV4 = awsSigV4
    }

    /// Method, URL and headers with credentials redacted: safe for logs and errors.
    public var redactedDescription: String {
        let shown = Redaction.redact(headers).map { "\($0.name): \($0.value)" }.joined(separator: ", ")
        return "\(method) \(Redaction.redact(url: url)) [\(shown)]"
    }
}
