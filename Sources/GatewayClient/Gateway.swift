import ControlAPI
import HTTP

/// The AI Gateway a target deploys, asked whether it serves an override (`targets[].gateway`).
public struct GatewaySettings: Sendable, Equatable {
    public var url: String
    /// Sent as `Authorization: Bearer`; nil when the endpoint is open to the agent.
    public var token: Credential?
    /// How long after the deploy job ends the gateway may take to serve the change.
    public var verifyTimeout: Duration
    public var pollInterval: Duration

    public init(url: String, token: Credential? = nil, verifyTimeout: Duration = .seconds(900), pollInterval: Duration = .seconds(10)) {
        self.url = url
        self.token = token
        self.verifyTimeout = verifyTimeout
        self.pollInterval = pollInterval
    }
}

/// `GET /v1/models/definitions`: the gateway's effective `default_models` per feature, read by
/// the same settings as its serving code, so it shows whether an override is live.
public struct Gateway: Sendable {
    public let settings: GatewaySettings
    private let service: JSONService

    public init(settings: GatewaySettings, client: HTTPClient, environment: [String: String], timeout: Duration = .seconds(10))
        throws(ControlError)
    {
        self.settings = settings
        let token = try settings.token?.resolve(environment)
        service = JSONService(
            client: client, baseURL: settings.url.trimmingSlash, headers: token.map { [HTTPHeader("Authorization", "Bearer \($0)")] } ?? [],
            timeout: timeout, retries: 1, backoff: .milliseconds(500), secrets: token.map { [$0] } ?? [])
    }

    /// Feature setting → the model identifiers it uses, first first.
    public func defaults() async throws(ControlError) -> [String: [String]] {
        let answer = try await service.call("GET", "/v1/models/definitions")
        guard answer.status == 200 else { throw .unavailable("GET /v1/models/definitions: HTTP \(answer.status)") }
        guard let primitives = answer.json?["unit_primitives"]?.array else {
            throw .malformed("/v1/models/definitions has no unit_primitives list")
        }
        var defaults: [String: [String]] = [:]
        for primitive in primitives {
            guard let feature = primitive["feature_setting"]?.string else { continue }
            if let list = primitive["default_models"]?.array {
                defaults[feature] = list.compactMap(Self.identifier)
            } else if let single = primitive["default_model"].flatMap(Self.identifier) {
                defaults[feature] = [single]
            }
        }
        return defaults
    }

    /// A model as the definitions name it: an identifier string, or an object carrying one.
    static func identifier(_ value: JSONValue) -> String? {
        if let text = value.string { return text }
        for key in ["identifier", "gitlab_identifier", "ref", "id"] { if let text = value[key]?.string { return text } }
        return nil
    }

    /// Features whose served defaults differ from `expected`, each with what it serves; empty when all match.
    public static func mismatches(expected: [String: [String]], served: [String: [String]]) -> [String] {
        expected.keys.sorted().compactMap { feature in
            let now = served[feature]
            return now == expected[feature]
                ? nil
                : "\(feature) serves \(now.map { $0.joined(separator: ", ") } ?? "nothing") (planned "
                    + "\(expected[feature]!.joined(separator: ", ")))"
        }
    }

    /// Polls until every feature of `expected` serves its planned list, or the verify timeout.
    /// Returns nil when verified, else what was still different.
    public func verify(_ expected: [String: [String]], stopping: @Sendable () -> Bool = { false }) async -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now + settings.verifyTimeout
        var last = "the gateway was never asked"
        while true {
            do {
                let problems = Self.mismatches(expected: expected, served: try await defaults())
                if problems.isEmpty { return nil }
                last = problems.joined(separator: "; ")
            } catch { last = "\(error)" }
            guard clock.now + settings.pollInterval < deadline, !stopping() else {
                return "after \(settings.verifyTimeout) \(settings.url) still does not serve the plan: \(last)"
            }
            try? await Task.sleep(for: settings.pollInterval)
        }
    }
}
