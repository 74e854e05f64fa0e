/// What one probe came to (DESIGN.md, "Probe result classes").
public enum ProbeClass: String, Sendable, Hashable, CaseIterable, Codable {
    /// Answered 2xx with a well-formed body within the latency budget.
    case ok
    /// Succeeded, but the first byte came later than the latency budget.
    case slow
    case http5xx = "http_5xx"
    /// HTTP 529, or an "overloaded" error body.
    case overloaded
    /// HTTP 429: a quota, usually ours.
    case rateLimited = "rate_limited"
    case timeout
    /// Refused, reset, closed without an answer, or the name did not resolve.
    case connect
    case tls
    /// 401/403: our credentials are wrong. Pages; never fails a provider over.
    case auth
    /// 400/404/422 and other client errors: our probe is wrong. Pages; never fails a provider over.
    case badRequest = "bad_request"
    /// 2xx with a body that does not parse.
    case badBody = "bad_body"

    /// The fault is on our side (credentials or the probe itself), never the provider's.
    public var isOurFault: Bool { self == .auth || self == .badRequest }
}
