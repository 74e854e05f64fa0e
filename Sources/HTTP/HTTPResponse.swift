/// Per-phase durations of one transfer, in milliseconds.
///
/// `dns`, `connect` and `tls` are the lengths of those phases (zero on a reused connection);
/// `firstByte` and `total` count from the start of the transfer.
public struct HTTPTimings: Sendable, Hashable {
    public var dns: Double
    public var connect: Double
    public var tls: Double
    public var firstByte: Double
    public var total: Double

    public init(dns: Double = 0, connect: Double = 0, tls: Double = 0, firstByte: Double = 0, total: Double = 0) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.firstByte = firstByte
        self.total = total
    }
}

/// An HTTP answer: any status, 5xx included.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// The body went past the request's `maxResponseBytes` and was cut there.
    public var truncated: Bool
    /// When each piece of the body arrived: its first byte's offset, and milliseconds since the
    /// request started (the first 256 pieces). A streamed answer's first token is timed from it.
    public var arrivals: [BodyArrival]

    public struct BodyArrival: Sendable, Hashable {
        public var offset: Int
        public var ms: Double
        public init(offset: Int, ms: Double) { (self.offset, self.ms) = (offset, ms) }
    }

    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = [], truncated: Bool = false, arrivals: [BodyArrival] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated
        self.arrivals = arrivals
    }

    /// When the body byte at `offset` arrived, in milliseconds since the request started.
    public func arrival(of offset: Int) -> Double? { arrivals.last { $0.offset <= offset }?.ms }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A transfer that got no complete HTTP answer.
public struct TransferFailure: Error, Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case timeout, dns, connect, tls, cancelled, other
    }
    public var kind: Kind
    /// libcurl's symbolic name, e.g. `CURLE_COULDNT_CONNECT`.
    public var curlError: String
    /// libcurl's own words for this transfer, credentials scrubbed.
    public var message: String

    public init(kind: Kind, curlError: String, message: String) {
        self.kind = kind
        self.curlError = curlError
        self.message = message
    }
}

/// What one request came to, with its timings either way.
public struct HTTPExchange: Sendable {
    public var result: Result<HTTPResponse, TransferFailure>
    public var timings: HTTPTimings

    public init(result: Result<HTTPResponse, TransferFailure>, timings: HTTPTimings) {
        self.result = result
        self.timings = timings
    }
}
