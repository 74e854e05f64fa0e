import AgentCore
import Config
import Control
import Foundation
import Health
import Leadership
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
    /// How `run` works: probes, journal, API, modes and limits.
    public var agent = AgentSettings()
    public var pagers: [PagerSettings] = []

    /// The `agent:` section.
    public enum LogFormat: String, Sendable {
        case text, json
    }

    public struct AgentSettings: Sendable {
        /// Directory of probe specs.
        public var probes = "probes"
        /// The journal file (SQLite).
        public var journal = "failover-agent.sqlite"
        public var listenHost = "127.0.0.1"
        public var listenPort = 9464
        /// Bearer token of the agent's API (`approve`, `reject`, `pause`, `resume`).
        public var apiToken: Credential = .environment("FAILOVER_AGENT_TOKEN")
        public var restoreMode: ActionMode = .perform
        public var proposalLifetime = 900.0
        public var maxFailoversPerHour = 3
        /// `text` (one line per message) or `json` (one object per line, for log pipelines).
        public var logFormat = LogFormat.text
        /// Several replicas on Kubernetes: only the holder of this Lease acts. nil: a single replica.
        public var leaderElection: LeaderElectionSettings?
    }

    /// `agent.leader_election`: the Lease the replicas share.
    public struct LeaderElectionSettings: Sendable, Equatable {
        public var apiServer = "https://kubernetes.default.svc"
        public var namespace: String
        public var name = "failover-agent"
        /// The environment variable holding this replica's identity (the pod name, from the downward API).
        public var identityEnv = "POD_NAME"
        /// The environment variable holding this replica's IP (`status.podIP`): it shares
        /// `http://<ip>:<API port>` in the Lease, so followers forward approvals and pauses to it.
        public var addressEnv: String?
        public var token: Credential = .file("/var/run/secrets/kubernetes.io/serviceaccount/token")
        public var caFile: String? = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
        public var timing = LeaseElector.Settings(identity: "")

        /// The Lease settings for this replica, its identity read from the environment.
        public func lease(environment: [String: String]) throws(ControlError) -> LeaseSettings {
            guard let identity = environment[identityEnv], !identity.isEmpty else {
                throw .credential("environment variable \(identityEnv) (this replica's identity for leader election) is not set")
            }
            var election = timing
            election.identity = identity
            return LeaseSettings(apiServer: apiServer, namespace: namespace, name: name, token: token, caBundle: caFile, identity: identity, election: election)
        }

        /// This replica's API address for the other replicas, once the API listens on `port`; nil without `address_env`.
        public func address(environment: [String: String], port: Int) throws(ControlError) -> String? {
            guard let addressEnv else { return nil }
            guard let ip = environment[addressEnv], !ip.isEmpty else {
                throw .credential("environment variable \(addressEnv) (this replica's IP, for followers to forward to) is not set")
            }
            return "http://\(ip.contains(":") ? "[\(ip)]" : ip):\(port)"
        }
    }

    /// Where the gateway's `models.yml` and `unit_primitives.yml` are, provider corrections (model →
    /// provider, or `unmanaged`), and the providers replacements are sought on first.
    public struct CatalogFiles: Sendable {
        public var models: String
        public var unitPrimitives: String
        public var providers: [String: String]
        public var prefer: [String]
        /// Where each correction was written (`file:line`), to name it when it is checked against the catalog.
        var correctionPlaces: [String: ConfigError] = [:]

        /// The runbook's order: Vertex AI fails over to Bedrock; Anthropic direct last among the
        /// Claude hosts, its quota being the one most often shared and first to run out.
        public static let defaultPrefer = ["bedrock", "vertex", "anthropic"]

        public init(models: String, unitPrimitives: String, providers: [String: String] = [:], prefer: [String] = defaultPrefer) {
            self.models = models
            self.unitPrimitives = unitPrimitives
            self.providers = providers
            self.prefer = prefer
        }
    }

    public init(policy: HealthPolicy = HealthPolicy()) { self.policy = policy }


    public static func load(file: String) throws(ConfigError) -> AgentConfiguration {
        try parse(YAMLFields.load(file: file))
    }

    public static func parse(_ yaml: YAMLFields) throws(ConfigError) -> AgentConfiguration {
        try yaml.rejectUnknownKeys(["policy", "catalog", "targets", "ca_bundle", "agent", "pagers"])
        var configuration = AgentConfiguration()
        let directory = (yaml.file as NSString).deletingLastPathComponent
        func path(_ text: String) -> String { text.hasPrefix("/") || directory.isEmpty ? text : (directory as NSString).appendingPathComponent(text) }
        if let policy = try yaml.optionalFields("policy") { configuration.policy = try PolicyLoader.parse(policy) }
        configuration.caBundle = try yaml.optionalString("ca_bundle").map(path)
        if let bundle = configuration.caBundle, !FileManager.default.isReadableFile(atPath: bundle) {
            throw yaml.error("ca_bundle", "no readable file at \(bundle)")
        }
        if let catalog = try yaml.optionalFields("catalog") {
            try catalog.rejectUnknownKeys(["models", "unit_primitives", "providers", "prefer"])
            var providers: [String: String] = [:]
            let corrections = try catalog.optionalFields("providers")
            if let corrections {
                for model in corrections.keys {
                    providers[model] = try corrections.string(model)
                    try CatalogLoader.checkProvider(providers[model]!, in: corrections, field: model, allowUnmanaged: true)
                }
            }
            let prefer = try catalog.optionalStrings("prefer") ?? CatalogFiles.defaultPrefer
            for provider in prefer { try CatalogLoader.checkProvider(provider, in: catalog, field: "prefer") }
            configuration.catalog = CatalogFiles(
                models: path(try catalog.string("models")), unitPrimitives: path(try catalog.string("unit_primitives")),
                providers: providers, prefer: prefer)
            for model in corrections?.keys ?? [] {
                configuration.catalog?.correctionPlaces[model] = corrections?.error(model, "unknown model \(model) (not in models.yml)")
            }
        }
        for item in try yaml.optionalList("targets") ?? [] {
            let target = try TargetLoader.parse(item)
            if configuration.targets.contains(where: { $0.name == target.name }) { throw item.error("name", "target '\(target.name)' is defined twice") }
            configuration.targets.append(target)
        }
        if let agent = try yaml.optionalFields("agent") { configuration.agent = try AgentLoader.parse(agent, path: path) }
        for item in try yaml.optionalList("pagers") ?? [] { configuration.pagers.append(try AgentLoader.pager(item)) }
        if !configuration.targets.isEmpty, configuration.catalog == nil { throw yaml.error(nil, "targets need a catalog (models and unit_primitives)") }
        return configuration
    }

    /// The planner over the catalog files; every error names the file and field.
    public func planner() throws(ConfigError) -> Planner {
        guard let catalog else { throw ConfigError(file: "config", field: "catalog", problem: "no catalog configured") }
        let models = try CatalogLoader.models(file: catalog.models, corrections: catalog.providers)
        for (model, error) in catalog.correctionPlaces.sorted(by: { $0.key < $1.key }) where models[model] == nil { throw error }
        return Planner(catalog: models, features: try CatalogLoader.features(file: catalog.unitPrimitives, catalog: models), prefer: catalog.prefer)
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
        try item.rejectUnknownKeys(["name", "mode", "vault", "gitlab", "change_request", "gateway", "restore_redeploy"])
        let name = try item.string("name")
        let modeText = try item.optionalString("mode") ?? "propose"
        guard let mode = ActionMode(rawValue: modeText) else { throw item.error("mode", "'\(modeText)' is not propose or perform") }
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
            token: try credential(gitlab), followTimeout: try gitlab.duration("follow_timeout", default: .seconds(1800), max: .seconds(6 * 3600)),
            pollInterval: try gitlab.duration("poll_interval", default: .seconds(10), max: .seconds(300)))
        return Target(
            name: name, mode: mode, vault: vaultSettings, gitlab: gitlabSettings, changeRequest: try item.optionalFields("change_request").map(changeRequest),
            gateway: try item.optionalFields("gateway").map(gateway), restoreRedeploy: try item.optionalBool("restore_redeploy") ?? false)
    }

    private static func changeRequest(_ fields: YAMLFields) throws(ConfigError) -> ChangeRequestSettings {
        try fields.rejectUnknownKeys(["project", "labels", "confidential"])
        return ChangeRequestSettings(
            project: try fields.string("project"), labels: try fields.optionalStrings("labels") ?? [], confidential: try fields.optionalBool("confidential") ?? false)
    }

    private static func gateway(_ fields: YAMLFields) throws(ConfigError) -> GatewaySettings {
        try fields.rejectUnknownKeys(["url", "token_env", "token_file", "verify_timeout", "poll_interval"])
        let hasToken = fields.has("token_env") || fields.has("token_file")
        return GatewaySettings(
            url: try url(fields, "url"), token: hasToken ? try credential(fields) : nil,
            verifyTimeout: try fields.duration("verify_timeout", default: .seconds(900), max: .seconds(6 * 3600)),
            pollInterval: try fields.duration("poll_interval", default: .seconds(10), max: .seconds(300)))
    }


    private static func credential(_ fields: YAMLFields) throws(ConfigError) -> Credential {
        switch (try fields.optionalString("token_env"), try fields.optionalString("token_file")) {
        case (let name?, nil): return .environment(name)
        case (nil, let file?): return .file(file)
        default: throw fields.error(nil, "\(fields.path) needs exactly one of token_env or token_file")
        }
    }
}

enum AgentLoader {
    static func parse(_ yaml: YAMLFields, path: (String) -> String) throws(ConfigError) -> AgentConfiguration.AgentSettings {
        try yaml.rejectUnknownKeys(["probes", "journal", "listen", "api_token_env", "api_token_file", "restore_mode", "proposal_lifetime", "max_failovers_per_hour", "leader_election", "log_format"])
        var agent = AgentConfiguration.AgentSettings()
        agent.probes = path(try yaml.optionalString("probes") ?? agent.probes)
        agent.journal = path(try yaml.optionalString("journal") ?? agent.journal)
        if let listen = try yaml.optionalString("listen") {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else { throw yaml.error("listen", "'\(listen)' is not host:port") }
            (agent.listenHost, agent.listenPort) = (String(parts[0]), port)
        }
        switch (try yaml.optionalString("api_token_env"), try yaml.optionalString("api_token_file")) {
        case (nil, nil): break
        case (let name?, nil): agent.apiToken = .environment(name)
        case (nil, let file?): agent.apiToken = .file(path(file))
        default: throw yaml.error("api_token_file", "set api_token_env or api_token_file, not both")
        }
        if let mode = try yaml.optionalString("restore_mode") {
            guard let value = ActionMode(rawValue: mode) else { throw yaml.error("restore_mode", "'\(mode)' is not propose or perform") }
            agent.restoreMode = value
        }
        agent.proposalLifetime = try yaml.duration("proposal_lifetime", default: .seconds(900)).seconds
        if let cap = try yaml.optionalInt("max_failovers_per_hour") {
            guard cap >= 1 else { throw yaml.error("max_failovers_per_hour", "must be at least 1") }
            agent.maxFailoversPerHour = cap
        }
        if let format = try yaml.optionalString("log_format") {
            guard let value = AgentConfiguration.LogFormat(rawValue: format) else { throw yaml.error("log_format", "'\(format)' is not text or json") }
            agent.logFormat = value
        }
        if let election = try yaml.optionalFields("leader_election") { agent.leaderElection = try leaderElection(election, path: path) }
        return agent
    }

    static func leaderElection(_ yaml: YAMLFields, path: (String) -> String) throws(ConfigError) -> AgentConfiguration.LeaderElectionSettings {
        try yaml.rejectUnknownKeys(["api_server", "namespace", "name", "identity_env", "address_env", "token_env", "token_file", "ca_file", "lease_duration", "renew_deadline", "retry_period"])
        var settings = AgentConfiguration.LeaderElectionSettings(namespace: try yaml.string("namespace"))
        settings.apiServer = try yaml.optionalString("api_server") ?? settings.apiServer
        guard settings.apiServer.hasPrefix("https://") || settings.apiServer.hasPrefix("http://") else {
            throw yaml.error("api_server", "'\(settings.apiServer)' must start with https:// or http://")
        }
        settings.name = try yaml.optionalString("name") ?? settings.name
        settings.identityEnv = try yaml.optionalString("identity_env") ?? settings.identityEnv
        settings.addressEnv = try yaml.optionalString("address_env")
        switch (try yaml.optionalString("token_env"), try yaml.optionalString("token_file")) {
        case (nil, nil): break
        case (let name?, nil): settings.token = .environment(name)
        case (nil, let file?): settings.token = .file(path(file))
        default: throw yaml.error("token_file", "set token_env or token_file, not both")
        }
        if let ca = try yaml.optionalString("ca_file") { settings.caFile = path(ca) } else if settings.apiServer.hasPrefix("http://") { settings.caFile = nil }
        settings.timing.leaseDuration = try yaml.duration("lease_duration", default: .seconds(15), max: .seconds(600)).seconds
        settings.timing.renewDeadline = try yaml.duration("renew_deadline", default: .seconds(10), max: .seconds(600)).seconds
        settings.timing.retryPeriod = try yaml.duration("retry_period", default: .seconds(2), max: .seconds(300)).seconds
        guard settings.timing.renewDeadline < settings.timing.leaseDuration else {
            throw yaml.error("renew_deadline", "must be shorter than lease_duration, so a leader that cannot renew stops before another may take over")
        }
        guard settings.timing.retryPeriod < settings.timing.renewDeadline else { throw yaml.error("retry_period", "must be shorter than renew_deadline") }
        return settings
    }

    static func pager(_ item: YAMLFields) throws(ConfigError) -> PagerSettings {
        guard item.keys.count == 1, let kind = item.keys.first, let fields = try item.optionalFields(kind) else {
            throw item.error(nil, "a pager is one of pagerduty, slack or webhook, with its settings")
        }
        switch kind {
        case "pagerduty":
            try fields.rejectUnknownKeys(["routing_key_env", "routing_key_file", "url"])
            return .pagerDuty(routingKey: try credential(fields, "routing_key"), url: fields.has("url") ? try url(fields, "url") : "https://events.pagerduty.com")
        case "slack":
            try fields.rejectUnknownKeys(["webhook_env", "webhook_file"])
            return .slack(webhook: try credential(fields, "webhook"))
        case "webhook":
            try fields.rejectUnknownKeys(["url", "token_env", "token_file"])
            let hasToken = fields.has("token_env") || fields.has("token_file")
            return .webhook(url: try url(fields, "url"), token: hasToken ? try credential(fields, "token") : nil)
        default:
            throw item.error(kind, "is not a pager (pagerduty, slack or webhook)")
        }
    }

    private static func credential(_ fields: YAMLFields, _ name: String) throws(ConfigError) -> Credential {
        switch (try fields.optionalString(name + "_env"), try fields.optionalString(name + "_file")) {
        case (let env?, nil): return .environment(env)
        case (nil, let file?): return .file(file)
        default: throw fields.error(nil, "\(fields.path) needs exactly one of \(name)_env or \(name)_file")
        }
    }
}

/// An http(s) URL field; any other scheme (`gopher://`, a bare host) is named at load.
func url(_ fields: YAMLFields, _ key: String) throws(ConfigError) -> String {
    let value = try fields.string(key)
    guard value.hasPrefix("https://") || value.hasPrefix("http://") else { throw fields.error(key, "'\(value)' must start with https:// or http://") }
    return value
}
