import Foundation

/// Names one service's deploy job in a pipeline that holds the trigger jobs of several services
/// (`🛫 [ai-gateway] Trigger runway deployment production`, `🛫 [duo-workflow-svc] …`): the
/// service id and environment (Runway's job name), the exact name, or an anchored regular
/// expression. A pipeline where it matches more than one job is refused, never guessed at.
public struct DeployJobMatcher: Sendable, Equatable, CustomStringConvertible {
    /// Shown in refusals and `check`: what the configuration says.
    public let description: String
    private let pattern: String?
    private let exact: String?

    /// Runway's trigger job of `service` in `environment`, after the job's emoji (or none).
    public static func service(_ service: String, environment: String) -> DeployJobMatcher {
        let tail = "[\(service)] Trigger runway deployment \(environment)"
        return DeployJobMatcher(
            description: "service \(service), environment \(environment)", pattern: #"^(?:\S+\s+)?"# + escaped(tail) + "$", exact: nil)
    }

    /// Exactly this job name.
    public static func name(_ name: String) -> DeployJobMatcher { DeployJobMatcher(description: name, pattern: nil, exact: name) }

    /// A regular expression anchored at both ends (`^…$`); a problem saying why when it is not one.
    public static func regex(_ pattern: String) -> Result<DeployJobMatcher, Problem> {
        guard pattern.hasPrefix("^"), pattern.hasSuffix("$"), pattern.count > 2 else {
            return .failure(Problem("'/\(pattern)/' is not anchored: write ^ at its start and $ at its end, so it names one job"))
        }
        guard (try? NSRegularExpression(pattern: pattern)) != nil else {
            return .failure(Problem("'/\(pattern)/' is not a valid regular expression"))
        }
        return .success(DeployJobMatcher(description: "/\(pattern)/", pattern: pattern, exact: nil))
    }

    /// A matcher as `deploy_job` writes it as text: `/^…$/` a regular expression, else the exact name.
    public static func parse(_ text: String) -> Result<DeployJobMatcher, Problem> {
        if text.count > 2, text.hasPrefix("/"), text.hasSuffix("/") { return regex(String(text.dropFirst().dropLast())) }
        return .success(name(text))
    }

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public func matches(_ jobName: String) -> Bool {
        if let exact { return jobName == exact }
        return jobName.range(of: pattern!, options: .regularExpression) != nil
    }

    private static func escaped(_ text: String) -> String { NSRegularExpression.escapedPattern(for: text) }
}

extension DeployJobMatcher: ExpressibleByStringLiteral {
    /// The exact job name (tests and examples).
    public init(stringLiteral value: String) { self = .name(value) }
}
