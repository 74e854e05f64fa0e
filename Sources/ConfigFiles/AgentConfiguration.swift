import Config
import Health
import ProbeResults

/// The agent's configuration file. Today: the health `policy`; targets, Vault, GitLab and pagers
/// join it as those parts land.
public struct AgentConfiguration: Sendable {
    public var policy = HealthPolicy()

    public init(policy: HealthPolicy = HealthPolicy()) { self.policy = policy }

    public static func load(file: String) throws(ConfigError) -> AgentConfiguration {
        try parse(YAMLFields.load(file: file))
    }

    public static func parse(_ yaml: YAMLFields) throws(ConfigError) -> AgentConfiguration {
        try yaml.rejectUnknownKeys(["policy"])
        var configuration = AgentConfiguration()
        if let policy = try yaml.optionalFields("policy") { configuration.policy = try PolicyLoader.parse(policy) }
        return configuration
    }
}
