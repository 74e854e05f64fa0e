import ControlAPI
import HTTP
import Lifecycle
import Secrets
import Timekeeping

/// One page: an alert that opens (`trigger`) or closes (`resolve`) an incident.
public struct Page: Sendable, Equatable {
    public enum Action: String, Sendable { case trigger, resolve }
    public var action: Action
    /// Groups the trigger and resolve of one incident (PagerDuty `dedup_key`).
    public var dedupKey: String
    public var summary: String
    public var severity: Alert.Severity
    public var source: String
    /// Ordered facts for the person paged.
    public var details: [(String, String)]

    public init(
        action: Action = .trigger, dedupKey: String, summary: String, severity: Alert.Severity = .error, source: String = "failover-agent",
        details: [(String, String)] = []
    ) {
        self.action = action
        self.dedupKey = dedupKey
        self.summary = summary
        self.severity = severity
        self.source = source
        self.details = details
    }

    /// The page that carries `alert`.
    public init(_ alert: Alert) {
        self.init(action: alert.resolve ? .resolve : .trigger, dedupKey: alert.dedupKey, summary: alert.summary, severity: alert.severity)
    }

    public static func == (a: Page, b: Page) -> Bool {
        a.action == b.action && a.dedupKey == b.dedupKey && a.summary == b.summary && a.severity == b.severity && a.source == b.source
            && a.details.map(\.0) == b.details.map(\.0) && a.details.map(\.1) == b.details.map(\.1)
    }
}

/// Where pages go.
public enum PagerSettings: Sendable, Equatable {
    /// PagerDuty Events API v2: `POST <url>/v2/enqueue` (default https://events.pagerduty.com).
    case pagerDuty(routingKey: Credential, url: String)
    /// A Slack incoming webhook (the URL is the secret).
    case slack(webhook: Credential)
    /// Any HTTP endpoint taking the page as JSON.
    case webhook(url: String, token: Credential?)

    public var name: String {
        switch self {
        case .pagerDuty: "pagerduty"
        case .slack: "slack"
        case .webhook: "webhook"
        }
    }
}

/// Sends a page to one destination, with bounded retries; secrets never reach the page or errors.
public struct Pager: Sendable {
    public let settings: PagerSettings
    private let service: JSONService
    private let path: String
    private let routingKey: String?

    /// The backoff between retries waits on `clock`.
    public init(
        settings: PagerSettings, client: HTTPClient, environment: [String: String], timeout: Duration = .seconds(5), retries: Int = 3,
        backoff: Duration = .milliseconds(500), clock: any AgentClock
    ) throws(ControlError) {
        self.settings = settings
        var headers: [HTTPHeader] = []
        var secrets: [String] = []
        let base: String
        switch settings {
        case .pagerDuty(let key, let url):
            routingKey = try key.resolve(environment)
            secrets.append(routingKey!)
            (base, path) = (url.trimmingSlash, "/v2/enqueue")
        case .slack(let webhook):
            routingKey = nil
            let url = try webhook.resolve(environment)
            secrets.append(url)
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw .credential("the Slack webhook is not an http(s) URL")
            }
            (base, path) = (url, "")
        case .webhook(let url, let token):
            routingKey = nil
            if let token {
                let value = try token.resolve(environment)
                secrets.append(value)
                headers.append(HTTPHeader("Authorization", "Bearer \(value)"))
            }
            (base, path) = (url, "")
        }
        service = JSONService(
            client: client, baseURL: base, headers: headers, timeout: timeout, retries: retries, backoff: backoff, secrets: secrets,
            clock: clock)
    }

    public func send(_ page: Page) async throws(ControlError) {
        // PagerDuty deduplicates by `dedup_key`, so a page is sent again after a lost answer;
        // Slack and a webhook would show it twice: a lost answer is reported, never resent.
        let resend: Resend = if case .pagerDuty = settings { .safe } else { .onlyIfUnsent }
        let answer = try await service.call("POST", path, body: body(page), resend: resend)
        guard (200..<300).contains(answer.status) else { throw .unavailable("\(settings.name) answered HTTP \(answer.status)") }
    }

    /// What is posted for `page`, every text in it scrubbed of credentials.
    public func body(_ page: Page) -> JSONValue {
        var page = page
        page.summary = Secrets.scrub(page.summary)
        page.details = page.details.map { ($0.0, Secrets.scrub($0.1)) }
        let details = JSONValue.object(Dictionary(page.details, uniquingKeysWith: { a, _ in a }).mapValues { .string($0) })
        switch settings {
        case .pagerDuty:
            var event: [String: JSONValue] = [
                "routing_key": .string(routingKey ?? ""), "event_action": .string(page.action.rawValue),
                "dedup_key": .string(page.dedupKey),
            ]
            if page.action == .trigger {
                event["payload"] = .object([
                    "summary": .string(String(page.summary.prefix(1024))), "source": .string(page.source),
                    "severity": .string(page.severity.rawValue), "custom_details": details,
                ])
            }
            return .object(event)
        case .slack:
            let prefix = page.action == .resolve ? "Resolved: " : page.severity == .critical ? ":rotating_light: " : ""
            let facts = page.details.map { "*\($0.0)*: \($0.1)" }.joined(separator: "\n")
            return .object([
                "text": .string(prefix + page.summary),
                "blocks": .array([
                    .object([
                        "type": .string("section"), "text": .object(["type": .string("mrkdwn"), "text": .string(prefix + page.summary)]),
                    ]),
                    .object([
                        "type": .string("section"),
                        "text": .object(["type": .string("mrkdwn"), "text": .string(facts.isEmpty ? " " : facts)]),
                    ]),
                ]),
            ])
        case .webhook:
            return .object([
                "action": .string(page.action.rawValue), "dedup_key": .string(page.dedupKey), "summary": .string(page.summary),
                "severity": .string(page.severity.rawValue), "source": .string(page.source), "details": details,
            ])
        }
    }
}

/// Every configured pager at once. A pager that is down never blocks the others or the caller
/// beyond its own bounded retries; the outcome says who got the page.
public struct Pagers: Sendable {
    public let pagers: [Pager]

    public init(_ pagers: [Pager]) { self.pagers = pagers }

    /// Names of the pagers that failed, with why.
    public func send(_ page: Page) async -> [(pager: String, error: String)] {
        await withTaskGroup(of: (String, String)?.self) { group in
            for pager in pagers {
                group.addTask {
                    do throws(ControlError) {
                        try await pager.send(page)
                        return nil
                    } catch { return (pager.settings.name, error.description) }
                }
            }
            var failures: [(pager: String, error: String)] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
    }
}
