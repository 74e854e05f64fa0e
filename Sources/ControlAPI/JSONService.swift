import HTTP
import Lifecycle
import Timekeeping

/// Whether a request may be sent a second time when its answer did not come.
package enum Resend: Sendable, Equatable {
    /// Sending it twice does what sending it once does: GET, PUT, DELETE, a merge patch, a
    /// check-and-set write (the second meets the version the first created).
    case safe
    /// It creates something (a job retry, an issue, a note, a variable): sent again only when it
    /// surely never reached the server (no connection, a 429). Any other lost answer is
    /// ``ControlError/unknownOutcome(_:)``, for the caller to settle by reading.
    case onlyIfUnsent

    /// By the method: POST creates, the rest are idempotent.
    package static func of(_ method: String) -> Resend { method == "POST" ? .onlyIfUnsent : .safe }
}

/// JSON over the shared ``HTTPClient`` with bounded retries: 5xx, timeouts and connection
/// failures back off exponentially; 429 waits `Retry-After` seconds (or backs off when absent).
/// A request that must not be sent twice (``Resend/onlyIfUnsent``) is retried only where it
/// surely did not reach the server.
package struct JSONService: Sendable {
    package let client: HTTPClient
    let baseURL: String
    let headers: [HTTPHeader]
    let timeout: Duration
    let retries: Int
    let backoff: Duration
    /// Credential values to scrub from any error text.
    let secrets: [String]
    /// A header whose credential is read at each call (`prefix` + the token), so a rotated one is used.
    let authorization: (header: String, prefix: String, source: any TokenSource)?
    /// What the waits between tries (backoff, `Retry-After`) wait on.
    let clock: any AgentClock

    package init(
        client: HTTPClient, baseURL: String, headers: [HTTPHeader], timeout: Duration, retries: Int, backoff: Duration,
        secrets: [String] = [], authorization: (header: String, prefix: String, source: any TokenSource)? = nil,
        clock: any AgentClock
    ) {
        (self.client, self.baseURL, self.headers, self.timeout, self.retries, self.backoff, self.secrets, self.authorization) =
            (client, baseURL, headers, timeout, retries, backoff, secrets, authorization)
        self.clock = clock
    }

    package struct Answer: Sendable {
        package var status: Int
        package var json: JSONValue?
        package var headers: [HTTPHeader]
        package var text: String
        package func header(_ name: String) -> String? { HTTPResponse(status: status, headers: headers).header(name) }
    }

    /// One call; the answer for any status that is not retried (2xx, 4xx other than 429).
    /// `contentType`: of the body (`application/merge-patch+json` for a merge patch).
    /// `extra`: headers of this call only. `resend`: by default, from the method (``Resend/of(_:)``).
    package func call(
        _ method: String, _ path: String, body: JSONValue? = nil, contentType: String = "application/json",
        headers extra: [HTTPHeader] = [],
        resend: Resend? = nil
    ) async throws(ControlError) -> Answer {
        let resend = resend ?? .of(method)
        var request = HTTPRequest(method: method, url: baseURL + path, headers: headers + extra, timeout: timeout)
        var secrets = secrets + extra.map(\.value)
        if let authorization {
            let token = try await authorization.source.token()
            request.headers.append(HTTPHeader(authorization.header, authorization.prefix + token))
            secrets.append(token)
        }
        if let body {
            request.body = body.bytes
            request.headers.append(HTTPHeader("content-type", contentType))
        }
        var delays = Backoff(initial: backoff / .seconds(1), maximum: 60)
        for attempt in 0...retries {
            let exchange = await client.execute(request)
            let last = attempt == retries
            switch exchange.result {
            case .failure(let failure):
                let what = "\(method) \(Redaction.redact(url: request.url)): \(Redaction.scrub(failure.message, secrets: secrets))"
                if resend == .onlyIfUnsent, !failure.neverSent { throw .unknownOutcome(what + "; it may have been carried out") }
                if last { throw .unavailable(what) }
            case .success(let response) where response.status == 429:
                if last { throw .unavailable("\(method) \(path): still rate limited (429) after \(retries + 1) attempts") }
                if let seconds = response.header("retry-after").flatMap(Double.init), seconds >= 0 {
                    try? await clock.sleep(for: .milliseconds(Int(min(seconds, 60) * 1000)))
                    continue
                }
            case .success(let response) where response.status >= 500:
                if resend == .onlyIfUnsent {
                    throw .unknownOutcome("\(method) \(path): HTTP \(response.status); it may have been carried out")
                }
                if last { throw .unavailable("\(method) \(path): HTTP \(response.status) after \(retries + 1) attempts") }
            case .success(let response):
                return Answer(
                    status: response.status, json: JSONValue.parse(response.body), headers: response.headers,
                    text: Redaction.scrub(response.bodyText, secrets: secrets))
            }
            try? await clock.sleep(for: .seconds(delays.failed()))
        }
        throw .unavailable("\(method) \(path)")
    }
}

extension TransferFailure {
    /// The request surely never reached the server: no name, no connection, no TLS session.
    /// A timeout or a connection lost after sending may have been carried out.
    var neverSent: Bool {
        switch kind {
        case .dns, .tls: true
        case .connect: curlError == "CURLE_COULDNT_CONNECT"
        case .timeout, .cancelled, .other: false
        }
    }
}

extension String {
    /// The URL without its trailing slash, to append paths to.
    package var trimmingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
