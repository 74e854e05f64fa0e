import Config
import Control
import Foundation
import Health
import ProbeResults
import Selection

/// The agent's configuration file: the health `policy`, the gateway's model `catalog`, and the
/// `targets` it manages (README, "Configuration").
public struct AgentConfiguration: Sendable {
    public var policy = HealthPolicy()
    public var catalog: CatalogFiles?
    public var targets: [Target] = []
    /// PEM bundle for Vault and GitLab TLS instead of the system's.
    public var caBundle: String?

    /// Where the gateway's `models.yml` and `unit_primitives.yml` are, and provider corrections.
    public struct CatalogFiles: Sendable {
        public var models: String
        public var unitPrimitives: String
        public var providers: [String: String]
    }

    public init(policy: HealthPolicy = HealthPolicy()) { self.policy = policy }

    public static func load(file: String) throws(ConfigError) -> AgentConfiguration {
        try parse(YAMLFields.load(file: file))
    }

    public static func parse(_ yaml: YAMLFields) throws(ConfigError) -> AgentConfiguration {
        try yaml.rejectUnknownKeys(["policy", "catalog", "targets", "ca_bundle"])
        var configuration = AgentConfiguration()
        let directory = (yaml.file as NSString).deletingLastPathComponent
        func path(_ text: String) -> String { text.hasPrefix("/") || directory.isEmpty ? text : (directory as NSString).appendingPathComponent(text) }
        if let policy = try yaml.optionalFields("policy") { configuration.policy = try PolicyLoader.parse(policy) }
        configuration.caBundle = try yaml.optionalString("ca_bundle").map(path)
        if let catalog = try yaml.optionalFields("catalog") {
            try catalog.rejectUnknownKeys(["models", "unit_primitives", "providers"])
            var providers: [String: String] = [:]
            if let corrections = try catalog.optionalFields("providers") {
                for model in corrections.keys { providers[model] = try corrections.string(model) }
            }
            configuration.catalog = CatalogFiles(models: path(try catalog.string("models")), unitPrimitives: path(try catalog.string("unit_primitives")), providers: providers)
        }
        for item in try yaml.optionalList("targets") ?? [] {
            let target = try TargetLoader.parse(item)
            if configuration.targets.contains(where: { $0.name == target.name }) { throw item.error("name", "target '\(target.name)' is defined twice") }
            configuration.targets.append(target)
        }
        if !configuration.targets.isEmpty, configuration.catalog == nil { throw yaml.error(nil, "targets need a catalog (models and unit_primitives)") }
        return configuration
    }

    /// The planner over the catalog files; every error names the file and field.
    public func planner() throws(ConfigError) -> Planner {
        guard let catalog else { throw ConfigError(file: "config", field: "catalog", problem: "no catalog configured") }
        let models = try CatalogLoader.models(file: catalog.models, corrections: catalog.providers)
        return Planner(catalog: models, features: try CatalogLoader.features(file: catalog.unitPrimitives, catalog: models))
    }

    /// The target called `name`, or an error listing the ones there are.
    public func target(_ name: String?) throws(ConfigError) -> [Target] {
        guard let name else { return targets }
        guard let target = targets.first(where: { $0.name == name }) else {
            throw ConfigError(file: "config", field: "targets", problem: "no target '\(name)' (there are: \(targets.map(\.name).joined(separator: ", ")))")
        }
        return [target]
    }
}

enum TargetLoader {
    static func parse(_ item: YAMLFields) throws(ConfigError) -> Target {
        try item.rejectUnknownKeys(["name", "mode", "vault", "gitlab"])
        let name = try item.string("name")
        let modeText = try item.optionalString("mode") ?? "propose"
        guard let mode = Target.Mode(rawValue: modeText) else { throw item.error("mode", "'\(modeText)' is not propose or perform") }
        guard let vault = try item.optionalFields("vault") else { throw item.error(nil, "missing required field \(item.fieldPath("vault"))") }
        guard let gitlab = try item.optionalFields("gitlab") else { throw item.error(nil, "missing required field \(item.fieldPath("gitlab"))") }
        try vault.rejectUnknownKeys(["address", "namespace", "mount", "path", "key", "token_env", "token_file"])
        try gitlab.rejectUnknownKeys(["url", "project", "ref", "deploy_job", "environment", "expedited", "token_env", "token_file", "follow_timeout", "poll_interval"])
        let vaultSettings = VaultSettings(
            address: try url(vault, "address"), namespace: try vault.optionalString("namespace"), mount: try vault.optionalString("mount") ?? "runway",
            path: try vault.string("path"), key: try vault.optionalString("key") ?? "value", token: try credential(vault))
        let deployJob = try gitlab.string("deploy_job")
        if deployJob.count > 2, deployJob.hasPrefix("/"), deployJob.hasSuffix("/"),
            (try? NSRegularExpression(pattern: String(deployJob.dropFirst().dropLast()))) == nil
        {
            throw gitlab.error("deploy_job", "'\(deployJob)' is not a valid regular expression")
        }
        let gitlabSettings = GitLabSettings(
            url: try url(gitlab, "url"), project: try gitlab.string("project"), ref: try gitlab.optionalString("ref") ?? "main",
            deployJob: deployJob, environment: try gitlab.optionalString("environment"), expedited: try gitlab.optionalBool("expedited") ?? false,
            token: try credential(gitlab), followTimeout: try gitlab.duration("follow_timeout", default: .seconds(1800)),
            pollInterval: try gitlab.duration("poll_interval", default: .seconds(10)))
        return Target(name: name, mode: mode, vault: vaultSettings, gitlab: gitlabSettings)
    }

    private static func url(_ fields: YAMLFields, _ key: String) throws(ConfigError) -> String {
        let value = try fields.string(key)
        guard value.hasPrefix("https://") || value.hasPrefix("http://") else { throw fields.error(key, "'\(value)' must start with https:// or http://") }
        return value
    }

    private static func credential(_ fields: YAMLFields) throws(ConfigError) -> Credential {
        switch (try fields.optionalString("token_env"), try fields.optionalString("token_file")) {
        case (let name?, nil): return .environment(name)
        case (nil, let file?): return .file(file)
        default: throw fields.error(nil, "\(fields.path) needs exactly one of token_env or token_file")
        }
    }
}
