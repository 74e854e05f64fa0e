import Actions
import AgentCore
import ControlAPI
import Foundation
import Health
import KubernetesClient
import Leadership
import Paging
import ProbeResults
import ProbeTemplates
import Probing
import Selection
import TrafficClient
import YAMLConfig

/// The agent's configuration file: the health `policy`, the gateway's model `catalog`, and the
/// `targets` it manages (docs/configuration.md).
public struct AgentConfiguration: Sendable {
    public var policy = HealthPolicy()
    public var catalog: CatalogFiles?
    public var targets: [Target] = []
    /// Target name → its traffic source (`targets[].traffic`).
    public var traffic: [String: TrafficSettings] = [:]
    /// PEM bundle for Vault and GitLab TLS instead of the system's.
    public var caBundle: String?
    /// How `run` works: probes, journal, API, modes and limits.
    public var agent = AgentSettings()
    public var pagers: [PagerSettings] = []
    /// Probes derived from the catalog, per provider; nil: only the specs in `agent.probes`.
    public var modelProbes: ModelProbes?

    /// The `agent:` section.
    public enum LogFormat: String, Sendable {
        case text, json
    }

    public struct AgentSettings: Sendable {
        /// Directory of probe specs.
        public var probes = "probes"
        /// Whether `probes` was written in the config (with `model_probes`, only then are
        /// hand-written specs read).
        public var probesGiven = false
        /// The most the probes may cost a day, in US dollars: past it, the least important
        /// endpoints are probed less often (``ProbeBudget``). nil: no limit.
        public var maxProbeCostPerDay: Double?
        /// The journal file (SQLite).
        public var journal = "failover-agent.sqlite"
        public var listenHost = "127.0.0.1"
        public var listenPort = 9464
        /// Bearer token of the agent's API (`approve`, `reject`, `pause`, `resume`).
        public var apiToken: Credential = .environment("FAILOVER_AGENT_TOKEN")
        public var restoreMode: ActionMode = .perform
        public var proposalLifetime = 900.0
        public var maxFailoversPerHour = 3
        /// How often each target's readiness checks run, in seconds.
        public var readinessInterval = 300.0
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
            return LeaseSettings(
                apiServer: apiServer, namespace: namespace, name: name, token: token, caBundle: caFile, identity: identity,
                election: election)
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

    public static func parse(_ file: YAMLFields) throws(ConfigError) -> AgentConfiguration {
        typealias Schema = ConfigurationSchema
        let yaml = try file.conform(to: Schema.section)
        var configuration = AgentConfiguration()
        if let policy = try yaml.read(Schema.policy) { configuration.policy = try PolicyLoader.parse(policy) }
        configuration.caBundle = try yaml.read(Schema.caBundle)
        if let bundle = configuration.caBundle, !FileManager.default.isReadableFile(atPath: bundle) {
            throw yaml.error("ca_bundle", "no readable file at \(bundle)")
        }
        if let catalog = try yaml.read(Schema.catalog) {
            var providers: [String: String] = [:]
            let corrections = try catalog.read(Schema.Catalog.providers)
            if let corrections {
                for model in corrections.keys {
                    providers[model] = try corrections.string(model)
                    try CatalogLoader.checkProvider(providers[model]!, in: corrections, field: model, allowUnmanaged: true)
                }
            }
            let prefer = try catalog.read(Schema.Catalog.prefer) ?? CatalogFiles.defaultPrefer
            for provider in prefer { try CatalogLoader.checkProvider(provider, in: catalog, field: "prefer") }
            configuration.catalog = CatalogFiles(
                models: try catalog.read(Schema.Catalog.models), unitPrimitives: try catalog.read(Schema.Catalog.unitPrimitives),
                providers: providers, prefer: prefer)
            for model in corrections?.keys ?? [] {
                configuration.catalog?.correctionPlaces[model] = corrections?.error(model, "unknown model \(model) (not in models.yml)")
            }
        }
        for item in try yaml.read(Schema.targets) {
            let target = try TargetLoader.parse(item)
            if let traffic = try TargetLoader.traffic(item) { configuration.traffic[target.name] = traffic }
            if configuration.targets.contains(where: { $0.name == target.name }) {
                throw item.error("name", "target '\(target.name)' is defined twice")
            }
            if let group = target.group {
                if configuration.targets.contains(where: { $0.name == group }) || target.name == group {
                    throw item.error("group", "'\(group)' is also a target's name: name the group apart")
                }
                if let other = configuration.targets.first(where: { $0.group == group }), other.mode != target.mode {
                    throw item.error(
                        "mode",
                        "'\(target.mode.rawValue)' differs from '\(other.mode.rawValue)' of \(other.name) in group \(group): "
                            + "a group fails over as one")
                }
            }
            if configuration.groups[target.name] != nil { throw item.error("name", "'\(target.name)' is also a group's name") }
            configuration.targets.append(target)
        }
        if let agent = try yaml.read(Schema.agent) { configuration.agent = try AgentLoader.parse(agent) }
        if let probes = try yaml.read(Schema.modelProbes) {
            configuration.modelProbes = try ModelProbesLoader.parse(probes)
            if configuration.catalog == nil { throw yaml.error("model_probes", "needs a catalog to derive probes from") }
        }
        for item in try yaml.read(Schema.pagers) { configuration.pagers.append(try AgentLoader.pager(item)) }
        if !configuration.targets.isEmpty, configuration.catalog == nil {
            throw yaml.error(nil, "targets need a catalog (models and unit_primitives)")
        }
        return configuration
    }

    /// The hand-written specs of `agent.probes` and the errors loading them. With `model_probes`,
    /// only a directory the config names is read (none by default).
    public func handWrittenProbes(environment: [String: String]) -> (specs: [ProbeSpec], errors: [ConfigError]) {
        if modelProbes != nil, !agent.probesGiven { return ([], []) }
        return ProbeSpecLoader.loadDirectory(agent.probes, environment: environment)
    }

    /// The planner over the catalog files; every error names the file and field.
    public func planner() throws(ConfigError) -> Planner {
        guard let catalog else { throw ConfigError(file: "config", field: "catalog", problem: "no catalog configured") }
        let models = try CatalogLoader.models(file: catalog.models, corrections: catalog.providers)
        for (model, error) in catalog.correctionPlaces.sorted(by: { $0.key < $1.key }) where models[model] == nil { throw error }
        return Planner(
            catalog: models, features: try CatalogLoader.features(file: catalog.unitPrimitives, catalog: models), prefer: catalog.prefer)
    }

    /// Group name → its targets, in file order.
    public var groups: [String: [String]] {
        var groups: [String: [String]] = [:]
        for target in targets { if let group = target.group { groups[group, default: []].append(target.name) } }
        return groups
    }

    /// The target called `name`, or an error listing the ones there are.
    public func target(_ name: String?) throws(ConfigError) -> [Target] {
        guard let name else { return targets }
        guard let target = targets.first(where: { $0.name == name }) else {
            throw ConfigError(
                file: "config", field: "targets", problem: "no target '\(name)' (there are: \(targets.map(\.name).joined(separator: ", ")))"
            )
        }
        return [target]
    }
}
