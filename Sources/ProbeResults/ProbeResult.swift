/// One probe's outcome, with per-phase timings in milliseconds.
public struct ProbeResult: Sendable, Hashable {
    public var provider: String
    public var probe: String
    public var resultClass: ProbeClass
    /// nil when no HTTP answer came.
    public var status: Int?
    public var dnsMs: Double
    public var connectMs: Double
    public var tlsMs: Double
    public var ttfbMs: Double
    public var totalMs: Double
    /// libcurl's error name when no HTTP answer came, e.g. `CURLE_COULDNT_CONNECT`.
    public var curlError: String?
    /// What the provider or libcurl said: an error type (`overloaded_error`, `ThrottlingException`) or message; never a credential.
    public var detail: String?
    /// Seconds a 429 asked for before the next request (`retry-after` and rate-limit reset headers).
    public var retryAfter: Double?

    public init(
        provider: String, probe: String, resultClass: ProbeClass, status: Int? = nil, dnsMs: Double = 0,
        connectMs: Double = 0, tlsMs: Double = 0, ttfbMs: Double = 0, totalMs: Double = 0,
        curlError: String? = nil, detail: String? = nil, retryAfter: Double? = nil
    ) {
        self.provider = provider
        self.probe = probe
        self.resultClass = resultClass
        self.status = status
        self.dnsMs = dnsMs
        self.connectMs = connectMs
        self.tlsMs = tlsMs
        self.ttfbMs = ttfbMs
        self.totalMs = totalMs
        self.curlError = curlError
        self.detail = detail
        self.retryAfter = retryAfter
    }

    /// One JSON line, keys in the documented order:
    /// `{"provider":…,"probe":…,"class":…,"status":…,"dns_ms":…,"connect_ms":…,"tls_ms":…,"ttfb_ms":…,"total_ms":…}`,
    /// then `curl_error` when there was no HTTP answer, `detail` when there is one, and `retry_after_s` when a 429 asked for quiet.
    public var jsonLine: String {
        var fields = [
            "\"provider\":\(JSONText.quote(provider))", "\"probe\":\(JSONText.quote(probe))",
            "\"class\":\(JSONText.quote(resultClass.rawValue))", "\"status\":\(status.map(String.init) ?? "null")",
            "\"dns_ms\":\(JSONText.number(dnsMs))", "\"connect_ms\":\(JSONText.number(connectMs))",
            "\"tls_ms\":\(JSONText.number(tlsMs))", "\"ttfb_ms\":\(JSONText.number(ttfbMs))",
            "\"total_ms\":\(JSONText.number(totalMs))",
        ]
        if let curlError { fields.append("\"curl_error\":\(JSONText.quote(curlError))") }
        if let detail { fields.append("\"detail\":\(JSONText.quote(detail))") }
        if let retryAfter { fields.append("\"retry_after_s\":\(JSONText.number(retryAfter))") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
