import AWSSigning
import Foundation
import HTTP
import ProbeResults
import Timekeeping

/// Runs probes through the shared ``HTTPClient`` and classifies what comes back.
public struct Prober: Sendable {
    public let client: HTTPClient
    private let tokens: GoogleTokens
    private let awsCredentials: AWSCredentialCache
    /// The calendar time requests are signed at and rate-limit reset dates are read against.
    private let clock: any AgentClock

    public init(
        client: HTTPClient, tokens: GoogleTokens = GoogleTokens(), awsCredentials: AWSCredentialCache = AWSCredentialCache(),
        clock: any AgentClock
    ) {
        self.clock = clock
        self.client = client
        self.tokens = tokens
        self.awsCredentials = awsCredentials
    }

    /// Probes once. Never throws: every outcome, a missing credential included, is a result.
    public func probe(_ spec: ProbeSpec) async -> ProbeResult {
        var request = HTTPRequest(
            method: spec.method, url: spec.url, headers: spec.headers, body: spec.body.map { Array($0.utf8) },
            timeout: spec.timeout, maxResponseBytes: 256 * 1024, freshConnection: spec.freshConnection)
        for header in spec.fileHeaders {
            do { request.headers.append(HTTPHeader(header.name, header.prefix + (try header.source.current()))) } catch {
                return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .auth, detail: error.description)
            }
        }
        var auth = spec.auth
        if case .awsTemporary(let region, let service, let origin) = auth {
            do {
                let credentials = try await awsCredentials.credentials(for: origin, client: client)
                auth = .awsSigV4(SigV4Signer(region: region, service: service, credentials: credentials))
            } catch {
                return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .auth, detail: error.description)
            }
        }
        switch auth {
        case .awsSigV4(let signer):
            do {
                let signed = try signer.sign(
                    method: request.method, url: request.url, headers: request.headers.map { ($0.name, $0.value) },
                    body: request.body ?? [], epochSeconds: Int64(clock.unixTime))
                request.url = signed.url
                request.headers = signed.headers.map { HTTPHeader($0.name, $0.value) }
            } catch {
                return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .auth, detail: error.description)
            }
        case .googleToken(let source):
            do {
                let token = try await tokens.token(for: source, client: client)
                request.headers.append(HTTPHeader("Authorization", "Bearer \(token)"))
            } catch {
                return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .auth, detail: error.description)
            }
        case .awsTemporary, nil: break
        }
        let exchange = await client.execute(request)
        let (resultClass, detail) = ResultClassifier.classify(exchange, spec: spec)
        let t = exchange.timings
        var status: Int?
        var curlError: String?
        var retryAfter: Double?
        switch exchange.result {
        case .success(let response):
            status = response.status
            if response.status == 429 { retryAfter = RateLimitHeaders.wait(response, now: Date(timeIntervalSince1970: clock.unixTime)) }
        case .failure(let failure): curlError = failure.curlError
        }
        return ProbeResult(
            provider: spec.provider, probe: spec.name, resultClass: resultClass, status: status, dnsMs: t.dns,
            connectMs: t.connect, tlsMs: t.tls, ttfbMs: t.firstByte, totalMs: t.total, curlError: curlError, detail: detail,
            retryAfter: retryAfter)
    }

    /// Probes every spec at once; results in the order of `specs`.
    public func probeAll(_ specs: [ProbeSpec]) async -> [ProbeResult] {
        await withTaskGroup(of: (Int, ProbeResult).self) { group in
            for (index, spec) in specs.enumerated() { group.addTask { (index, await probe(spec)) } }
            var results = [ProbeResult?](repeating: nil, count: specs.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
    }
}
