import ControlAPI
import Foundation
import HTTP
import Health

/// A Prometheus-compatible query API with the gateway's counters (`targets[].traffic`).
public struct TrafficSettings: Sendable, Equatable {
    /// The query API's base URL (`…/api/v1/query` is appended).
    public var url: String
    /// Sent as `Authorization: Bearer`: a read-only query token; nil when none is needed.
    public var token: Credential?
    /// How often the counts are read, and the window each covers.
    public var interval: Duration
    /// A reading whose newest sample is older than this is not evidence.
    public var staleAfter: Duration
    /// The counts per series over the window; `$window` is replaced by `interval` (`30000ms`).
    public var requestsQuery: String
    /// The time of the newest sample behind them.
    public var latestQuery: String
    public var callerErrorTypes: [String]

    public static let defaultRequestsQuery =
        "sum by (model_engine, model_name, error, error_type) (increase(model_inferences_total[$window]))"
    public static let defaultLatestQuery = "max(timestamp(model_inferences_total))"

    public init(
        url: String, token: Credential? = nil, interval: Duration = .seconds(30), staleAfter: Duration = .seconds(120),
        requestsQuery: String = defaultRequestsQuery, latestQuery: String = defaultLatestQuery,
        callerErrorTypes: [String] = TrafficMapping.defaultCallerErrorTypes
    ) {
        (self.url, self.token, self.interval, self.staleAfter) = (url, token, interval, staleAfter)
        (self.requestsQuery, self.latestQuery, self.callerErrorTypes) = (requestsQuery, latestQuery, callerErrorTypes)
    }
}

/// Reads the gateway's traffic from its Prometheus: the counts per subject over the last
/// interval and the age of the newest sample, as a ``TrafficTrust/Reading`` for the core.
public struct TrafficSource: Sendable {
    public let settings: TrafficSettings
    public let mapping: TrafficMapping
    private let service: JSONService

    public init(settings: TrafficSettings, mapping: TrafficMapping, client: HTTPClient, environment: [String: String]) throws(ControlError)
    {
        self.settings = settings
        self.mapping = mapping
        let token = try settings.token.map { credential throws(ControlError) in try CredentialSource(credential, environment: environment) }
        service = JSONService(
            client: client, baseURL: settings.url.trimmingSlash, headers: [], timeout: .seconds(10), retries: 1,
            backoff: .milliseconds(500), authorization: token.map { ("Authorization", "Bearer ", $0) })
    }

    /// One reading at loop time `now`; `unmapped`: the series no subject takes.
    public func read(now: Double) async -> (reading: TrafficTrust.Reading, unmapped: [String]) {
        do {
            let window = "\(Int64(settings.interval / .milliseconds(1)))ms"
            let series = try await query(settings.requestsQuery.replacingOccurrences(of: "$window", with: window))
            let latest = try await query(settings.latestQuery).map(\.value).max()
            let (windows, unmapped) = mapping.windows(series)
            let age = latest.map { Date().timeIntervalSince1970 - $0 }
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
