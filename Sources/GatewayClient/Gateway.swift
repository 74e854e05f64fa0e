import ControlAPI
import HTTP
import Selection
import Timekeeping

/// The AI Gateway a target deploys, asked whether it serves an override (`targets[].gateway`):
/// one URL per region or fleet, each behind its own load balancer.
public struct GatewaySettings: Sendable, Equatable {
    /// Every URL that must serve the change (Cloud Run regions, the EKS fleet).
    public var urls: [String]
    /// Sent as `Authorization: Bearer`; nil when the endpoint is open to the agent.
    public var token: Credential?
    /// How long after the deploy job ends the gateway may take to serve the change.
    public var verifyTimeout: Duration
    public var pollInterval: Duration
    /// Consecutive polls of one URL that must all serve the change: behind a load balancer during
    /// a canary rollout one answer may come from a new instance while most serve the old one.
    public var agreeingPolls: Int
    /// How long a restore written without a redeploy waits for the next regular deployment before
    /// it is paged as not deployed.
    public var nextDeploymentTimeout: Duration

    public init(
        urls: [String], token: Credential? = nil, verifyTimeout: Duration = .seconds(900), pollInterval: Duration = .seconds(10),
        agreeingPolls: Int = 3, nextDeploymentTimeout: Duration = .seconds(72 * 3600)
    ) {
        self.urls = urls
        self.token = token
        self.verifyTimeout = verifyTimeout
        self.pollInterval = pollInterval
        self.agreeingPolls = agreeingPolls
        self.nextDeploymentTimeout = nextDeploymentTimeout
    }

    public init(url: String, token: Credential? = nil, verifyTimeout: Duration = .seconds(900), pollInterval: Duration = .seconds(10)) {
        self.init(urls: [url], token: token, verifyTimeout: verifyTimeout, pollInterval: pollInterval, agreeingPolls: 1)
    }

    /// The URLs, as pages and logs name them.
    public var label: String { urls.joined(separator: ", ") }
}

/// `GET /v1/models/definitions`: the gateway's effective `default_models` per feature, read by
/// the same settings as its serving code, so it shows whether an override is live.
public struct Gateway: Sendable {
    public let settings: GatewaySettings
    private let services: [(url: String, service: JSONService)]
    /// What polling waits on.
    public let clock: any AgentClock

    public init(
        settings: GatewaySettings, client: HTTPClient, environment: [String: String], timeout: Duration = .seconds(10),
        clock: any AgentClock
    ) throws(ControlError) {
        self.settings = settings
        self.clock = clock
        let token = try settings.token.map { credential throws(ControlError) in try CredentialSource(credential, environment: environment) }
        services = settings.urls.map { url in
            (
                url,
                JSONService(
                    client: client, baseURL: url.trimmingSlash, headers: [], timeout: timeout, retries: 1, backoff: .milliseconds(500),
                    authorization: token.map { ("Authorization", "Bearer ", $0) }, clock: clock)
            )
        }
    }

    /// Feature setting → the model identifiers it uses, first first, as the first URL serves them.
    public func defaults() async throws(ControlError) -> [String: [String]] { try await defaults(at: 0) }

    /// Feature setting → the model identifiers the URL at `index` serves, first first.
    public func defaults(at index: Int) async throws(ControlError) -> [String: [String]] { try await definitions(at: index).defaults }

    /// What the URL at `index` serves (each feature's defaults, first first) and the catalog its
    /// image knows (its models, each feature's selectable models).
    public func definitions(at index: Int) async throws(ControlError) -> (defaults: [String: [String]], catalog: DeployedCatalog) {
        let (url, service) = services[index]
        let answer = try await service.call("GET", "/v1/models/definitions")
        guard answer.status == 200 else { throw .unavailable("GET \(url)/v1/models/definitions: HTTP \(answer.status)") }
        guard let primitives = answer.json?["unit_primitives"]?.array else {
            throw .malformed("\(url)/v1/models/definitions has no unit_primitives list")
        }
        var defaults: [String: [String]] = [:]
        var selectable: [String: [String]] = [:]
        for primitive in primitives {
            guard let feature = primitive["feature_setting"]?.string else { continue }
            if let list = primitive["default_models"]?.array {
                defaults[feature] = list.compactMap(Self.identifier)
            } else if let single = primitive["default_model"].flatMap(Self.identifier) {
                defaults[feature] = [single]
            }
            selectable[feature] = primitive["selectable_models"]?.array?.compactMap(Self.identifier) ?? []
        }
        let models = Set((answer.json?["models"]?.array ?? []).compactMap(Self.identifier))
        return (defaults, DeployedCatalog(models: models, selectable: selectable, source: url))
    }

    /// The catalog every URL's image knows (only what all of them serve).
    public func deployedCatalog() async throws(ControlError) -> DeployedCatalog {
        var catalogs: [DeployedCatalog] = []
        for index in services.indices { catalogs.append(try await definitions(at: index).catalog) }
        return DeployedCatalog.common(catalogs)!
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

    /// Polls every URL until each has served every feature's planned list on `agreeing_polls`
    /// polls in a row, or the verify timeout. Returns nil when verified, else which URLs are
    /// still behind and what they serve.
    public func verify(_ expected: [String: [String]], stopping: @Sendable () -> Bool = { false }) async -> String? {
        let deadline = clock.elapsed + settings.verifyTimeout
        var tally = VerifyTally(urls: settings.urls, agreeing: settings.agreeingPolls)
        while true {
            for index in services.indices where !tally.isVerified(index) {
                do {
                    tally.record(index, problems: Self.mismatches(expected: expected, served: try await defaults(at: index)))
                } catch { tally.record(index, problems: ["\(error)"]) }
            }
            if tally.allVerified { return nil }
            guard clock.elapsed + settings.pollInterval < deadline, !stopping() else {
                return "after \(settings.verifyTimeout) " + tally.behind
            }
            try? await clock.sleep(for: settings.pollInterval)
        }
    }
}

/// Per gateway URL, how many polls in a row served the plan, and what the last one that did not
/// served (pure: ``Gateway/verify(_:stopping:)`` feeds it).
public struct VerifyTally: Sendable {
    public let urls: [String]
    public let agreeing: Int
    private var streak: [Int]
    private var last: [String]

    public init(urls: [String], agreeing: Int) {
        self.urls = urls
        self.agreeing = max(1, agreeing)
        streak = Array(repeating: 0, count: urls.count)
        last = Array(repeating: "never asked", count: urls.count)
    }

    /// One poll of the URL at `index`: what it served differently from the plan (none: it served it).
    public mutating func record(_ index: Int, problems: [String]) {
        if problems.isEmpty {
            streak[index] += 1
        } else {
            streak[index] = 0
            last[index] = problems.joined(separator: "; ")
        }
    }

    public func isVerified(_ index: Int) -> Bool { streak[index] >= agreeing }
    public var allVerified: Bool { urls.indices.allSatisfy(isVerified) }

    /// The URLs not yet verified, each with why.
    public var behind: String {
        let late = urls.indices.filter { !isVerified($0) }
        let verified = urls.count - late.count
        return "\(late.count) of \(urls.count) gateway URL(s) still do not serve the plan"
            + (verified > 0 ? " (\(verified) do)" : "") + ": "
            + late.map { index in
                streak[index] > 0
                    ? "\(urls[index]) served it on \(streak[index]) of \(agreeing) polls in a row"
                    : "\(urls[index]): \(last[index])"
            }.joined(separator: "; ")
    }
}
