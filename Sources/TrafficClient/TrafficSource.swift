import ControlAPI
import Foundation
import HTTP
import Health
import Secrets
import Timekeeping

/// A Prometheus-compatible query API with the gateway's counters (`targets[].traffic`).
public struct TrafficSettings: Sendable, Equatable {
    /// The query API's base URL (`…/api/v1/query` is appended).
    public var url: String
    /// Sent as `Authorization: Bearer`: a read-only query token; nil when none is needed.
    public var token: Credential?
    /// HTTP basic auth instead of a bearer token (Grafana Mimir behind its gateway).
    public var basicAuth: BasicAuth?
    /// Sent as `X-Scope-OrgID`: the tenant of a multi-tenant store (Mimir, Cortex, Thanos receive).
    public var tenant: String?
    /// How often the counts are read, and the window each covers.
    public var interval: Duration
    /// A reading whose newest sample is older than this is not evidence.
    public var staleAfter: Duration
    /// The counts per series over the window; `$window` is replaced by `interval` (`30000ms`).
    public var requestsQuery: String
    /// The time of the newest sample behind them.
    public var latestQuery: String
    public var callerErrorTypes: [String]

    public static let defaultRequestsQuery = requestsQuery(selector: nil)
    public static let defaultLatestQuery = latestQuery(selector: nil)

    /// The default counts query, its series limited by `selector`'s label matchers
    /// (`type="ai-gateway", env="gprd"`: one service of one environment where many sit side by side).
    public static func requestsQuery(selector: String?) -> String {
        "sum by (model_engine, model_name, error, error_type) (increase(\(series(selector))[$window]))"
    }

    /// The default newest-sample query, limited by `selector` as the counts are.
    public static func latestQuery(selector: String?) -> String { "max(timestamp(\(series(selector))))" }

    private static func series(_ selector: String?) -> String {
        guard let selector else { return "model_inferences_total" }
        let matchers = selector.trimmingCharacters(in: CharacterSet(charactersIn: "{} "))
        return "model_inferences_total{\(matchers)}"
    }

    /// A user name, and a password read from the environment or a file (re-read when it changes).
    public struct BasicAuth: Sendable, Equatable {
        public var username: String
        public var password: Credential
        public init(username: String, password: Credential) { (self.username, self.password) = (username, password) }
    }

    public init(
        url: String, token: Credential? = nil, basicAuth: BasicAuth? = nil, tenant: String? = nil, interval: Duration = .seconds(30),
        staleAfter: Duration = .seconds(120), requestsQuery: String = defaultRequestsQuery, latestQuery: String = defaultLatestQuery,
        callerErrorTypes: [String] = TrafficMapping.defaultCallerErrorTypes
    ) {
        (self.url, self.token, self.basicAuth, self.tenant, self.interval, self.staleAfter) = (
            url, token, basicAuth, tenant, interval, staleAfter
        )
        (self.requestsQuery, self.latestQuery, self.callerErrorTypes) = (requestsQuery, latestQuery, callerErrorTypes)
    }
}

/// `Basic base64(user:password)`, the password read at each request (a rotated one is used).
struct BasicCredentialSource: TokenSource {
    let username: String
    let password: CredentialSource

    func token() async throws(ControlError) -> String {
        let encoded = Data("\(username):\(try password.current())".utf8).base64EncodedString()
        Secrets.register(encoded)
        return encoded
    }
}

/// Reads the gateway's traffic from its Prometheus: the counts per subject over the last
/// interval and the age of the newest sample, as a ``TrafficTrust/Reading`` for the core.
public struct TrafficSource: Sendable {
    public let settings: TrafficSettings
    public let mapping: TrafficMapping
    private let service: JSONService
    /// The calendar time a sample's age is measured against.
    private let clock: any AgentClock

    public init(
        settings: TrafficSettings, mapping: TrafficMapping, client: HTTPClient, environment: [String: String],
        clock: any AgentClock
    ) throws(ControlError) {
        self.clock = clock
        self.settings = settings
        self.mapping = mapping
        var authorization: (header: String, prefix: String, source: any TokenSource)?
        if let credential = settings.token {
            authorization = ("Authorization", "Bearer ", try CredentialSource(credential, environment: environment))
        } else if let basic = settings.basicAuth {
            let password = try CredentialSource(basic.password, environment: environment)
            authorization = ("Authorization", "Basic ", BasicCredentialSource(username: basic.username, password: password))
        }
        service = JSONService(
            client: client, baseURL: settings.url.trimmingSlash, headers: settings.tenant.map { [HTTPHeader("X-Scope-OrgID", $0)] } ?? [],
            timeout: .seconds(10), retries: 1, backoff: .milliseconds(500), authorization: authorization, clock: clock)
    }

    /// One reading at loop time `now`; `unmapped`: the series no subject takes.
    public func read(now: Double) async -> (reading: TrafficTrust.Reading, unmapped: [String]) {
        do {
            let window = "\(Int64(settings.interval / .milliseconds(1)))ms"
            let series = try await query(settings.requestsQuery.replacingOccurrences(of: "$window", with: window))
            let latest = try await query(settings.latestQuery).map(\.value).max()
            let (windows, unmapped) = mapping.windows(series)
            let age = latest.map { clock.unixTime - $0 }
            return (.answered(windows, latestSample: age.map { now - max(0, $0) }), unmapped)
        } catch {
            return (.failed(error.description), [])
        }
    }

    /// `GET /api/v1/query`: an instant vector (or a scalar, as one series without labels).
    func query(_ promql: String) async throws(ControlError) -> [Series] {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=?#")
        let encoded = promql.addingPercentEncoding(withAllowedCharacters: allowed) ?? promql
        let answer = try await service.call("GET", "/api/v1/query?query=" + encoded)
        guard answer.status == 200, answer.json?["status"]?.string == "success", let data = answer.json?["data"] else {
            let error = answer.json?["error"]?.string ?? "HTTP \(answer.status)"
            throw .unavailable("query \(promql): \(error)")
        }
        func number(_ pair: JSONValue?) -> Double? { pair?.array?.last?.string.flatMap(Double.init) }
        switch data["resultType"]?.string {
        case "vector":
            return (data["result"]?.array ?? []).compactMap { item in
                guard let value = number(item["value"]) else { return nil }
                let labels = item["metric"]?.object?.compactMapValues(\.string) ?? [:]
                return Series(labels: labels, value: value)
            }
        case "scalar": return number(data["result"]).map { [Series(labels: [:], value: $0)] } ?? []
        default: throw .malformed("query \(promql): not an instant vector")
        }
    }
}

extension [TrafficSource] {
    /// Reads every source once, as one reading: their counts added up, the oldest of their newest
    /// samples (one without samples makes the reading have none), or a failure when any does not
    /// answer. `unmapped`: each source's series no subject takes, by the source's URL.
    public func read(now: Double) async -> (reading: TrafficTrust.Reading, unmapped: [(series: String, source: String)]) {
        var windows: [String: TrafficCount] = [:]
        var newest: [Double?] = []
        var failures: [String] = []
        var unmapped: [(series: String, source: String)] = []
        for source in self {
            let (reading, series) = await source.read(now: now)
            unmapped += series.map { ($0, source.settings.url) }
            switch reading {
            case .failed(let why): failures.append(why)
            case .answered(let counts, let latest):
                for (subject, count) in counts {
                    windows[subject, default: TrafficCount(requests: 0, failures: 0)].requests += count.requests
                    windows[subject, default: TrafficCount(requests: 0, failures: 0)].failures += count.failures
                }
                newest.append(latest)
            }
        }
        let latest = newest.contains(nil) ? nil : newest.compactMap { $0 }.min()
        return (failures.isEmpty ? .answered(windows, latestSample: latest) : .failed(failures.joined(separator: "; ")), unmapped)
    }
}
