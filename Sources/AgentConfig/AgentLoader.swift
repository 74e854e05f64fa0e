import AgentCore
import ControlAPI
import Foundation
import Leadership
import Paging
import YAMLConfig

/// Reads the `agent:` section (how `run` works) and `pagers:`.
enum AgentLoader {
    static let probes: Field<String> = .path("probes", default: "probes", "the directory of hand-written probe specs (`*.yml`)")
    static let journal: Field<String> = .path("journal", default: "failover-agent.sqlite", "the journal (SQLite) of every action step")
    static let listen = Field<(String, Int)>(
        FieldDescription(
            name: "listen", type: "host:port", defaultText: "127.0.0.1:9464", bounds: "port 0 to 65535",
            meaning: "where the API, `/metrics` and the status page listen")
    ) { yaml throws(ConfigError) in
        guard let listen = try yaml.optionalString("listen") else { return ("127.0.0.1", 9464) }
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
            throw yaml.error("listen", "'\(listen.prefix(80))' is not host:port")
        }
        return (String(parts[0]), port)
    }
    static let apiToken: Field<Credential> = .credential(
        "api_token", default: .environment("FAILOVER_AGENT_TOKEN"), "the bearer token of the API's `approve`, `reject`, `pause`, `resume`")
    static let restoreMode: Field<String> = .text(
        "restore_mode", default: "perform", choices: ["propose", "perform"], "whether restores are proposed or performed")
    static let proposalLifetime: Field<Duration> = .duration(
        "proposal_lifetime", default: .seconds(900), "how long a paged proposal may be approved")
    static let maxFailoversPerHour: Field<Int> = .integer(
        "max_failovers_per_hour", default: 3, in: 1...1000, "failovers in an hour past which the agent only pages")
    static let maxProbeCostPerDay = Field<Double?>(
        FieldDescription(
            name: "max_probe_cost_per_day", type: "number", defaultText: "none", bounds: "above 0",
            meaning: "US dollars a day the probes may cost; past it the least important endpoints are probed less often")
    ) { yaml throws(ConfigError) in
        guard let budget = try yaml.optionalDouble("max_probe_cost_per_day") else { return nil }
        guard budget > 0 else { throw yaml.error("max_probe_cost_per_day", "must be more than 0 (US dollars a day)") }
        return budget
    }
    static let readinessInterval: Field<Duration> = .duration(
        "readiness_interval", default: .seconds(300), max: .seconds(3600),
        "how often each target's readiness is checked (Vault token and rights, GitLab token and role, the deploy job, the gateway)")
    static let logFormat: Field<String> = .text(
        "log_format", default: "text", choices: ["text", "json"], "one line per message, or one JSON object per line")
    static let leaderElection: Field<YAMLFields?> = .section(
        "leader_election", leaderElectionSection, "several replicas on Kubernetes: only the holder of a Lease acts (none: one replica)")
    static let section = ConfigSection(
        "agent", "How `run` works: probes, journal, API, modes and limits.", probes, journal, listen, apiToken, restoreMode,
        proposalLifetime, maxFailoversPerHour, maxProbeCostPerDay, readinessInterval, logFormat, leaderElection)

    static func parse(_ fields: YAMLFields) throws(ConfigError) -> AgentConfiguration.AgentSettings {
        let yaml = try fields.conform(to: section)
        var agent = AgentConfiguration.AgentSettings()
        agent.probes = try yaml.read(probes)
        agent.probesGiven = yaml.has("probes")
        agent.journal = try yaml.read(journal)
        (agent.listenHost, agent.listenPort) = try yaml.read(listen)
        agent.apiToken = try yaml.read(apiToken)
        agent.restoreMode = ActionMode(rawValue: try yaml.read(restoreMode))!
        agent.maxProbeCostPerDay = try yaml.read(maxProbeCostPerDay)
        agent.proposalLifetime = try yaml.read(proposalLifetime).seconds
        agent.maxFailoversPerHour = try yaml.read(maxFailoversPerHour)
        agent.readinessInterval = try yaml.read(readinessInterval).seconds
        agent.logFormat = AgentConfiguration.LogFormat(rawValue: try yaml.read(logFormat))!
        if let election = try yaml.read(leaderElection) { agent.leaderElection = try Self.leaderElection(election) }
        return agent
    }

    enum Lease {
        static let apiServer: Field<String> = .url(
            "api_server", default: "https://kubernetes.default.svc", "the Kubernetes API server")
        static let namespace: Field<String> = .text("namespace", "the Lease's namespace")
        static let name: Field<String> = .text("name", default: "failover-agent", "the Lease's name")
        static let identityEnv: Field<String> = .text(
            "identity_env", default: "POD_NAME", "the variable holding this replica's identity (the pod name)")
        static let addressEnv: Field<String?> = .optionalText(
            "address_env", "the variable holding this replica's IP, shared in the Lease so followers forward approvals to the leader")
        static let token: Field<Credential> = .credential(
            "token", default: .file("/var/run/secrets/kubernetes.io/serviceaccount/token"), "the service account's token")
        static let caFile = Field<String?>(
            FieldDescription(
                name: "ca_file", type: "path", defaultText: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt (none for http://)",
                meaning: "the API server's CA bundle")
        ) { yaml throws(ConfigError) in
            if let ca = try yaml.optionalString("ca_file") { return yaml.resolve(ca) }
            return try yaml.read(apiServer).hasPrefix("http://") ? nil : "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
        }
        static let leaseDuration: Field<Duration> = .duration(
            "lease_duration", default: .seconds(15), max: .seconds(600), "how long a Lease not renewed stays its holder's")
        static let renewDeadline: Field<Duration> = .duration(
            "renew_deadline", default: .seconds(10), max: .seconds(600), "a leader that cannot renew this long stops acting")
        static let retryPeriod: Field<Duration> = .duration(
            "retry_period", default: .seconds(2), max: .seconds(300), "how often the Lease is tried")
    }

    static let leaderElectionSection = ConfigSection(
        "agent.leader_election", "The Lease the replicas share (coordination.k8s.io/v1).", Lease.apiServer, Lease.namespace,
        Lease.name, Lease.identityEnv, Lease.addressEnv, Lease.token, Lease.caFile, Lease.leaseDuration, Lease.renewDeadline,
        Lease.retryPeriod)

    static func leaderElection(_ yaml: YAMLFields) throws(ConfigError) -> AgentConfiguration.LeaderElectionSettings {
        var settings = AgentConfiguration.LeaderElectionSettings(namespace: try yaml.read(Lease.namespace))
        settings.apiServer = try yaml.read(Lease.apiServer)
        settings.name = try yaml.read(Lease.name)
        settings.identityEnv = try yaml.read(Lease.identityEnv)
        settings.addressEnv = try yaml.read(Lease.addressEnv)
        settings.token = try yaml.read(Lease.token)
        settings.caFile = try yaml.read(Lease.caFile)
        settings.timing.leaseDuration = try yaml.read(Lease.leaseDuration).seconds
        settings.timing.renewDeadline = try yaml.read(Lease.renewDeadline).seconds
        settings.timing.retryPeriod = try yaml.read(Lease.retryPeriod).seconds
        guard settings.timing.renewDeadline < settings.timing.leaseDuration else {
            throw yaml.error(
                "renew_deadline", "must be shorter than lease_duration, so a leader that cannot renew stops before another may take over")
        }
        guard settings.timing.retryPeriod < settings.timing.renewDeadline else {
            throw yaml.error("retry_period", "must be shorter than renew_deadline")
        }
        return settings
    }

    enum Pager {
        static let routingKey: Field<Credential> = .credential("routing_key", "the PagerDuty Events API v2 routing key")
        static let pagerDutyURL: Field<String> = .url("url", default: "https://events.pagerduty.com", "the Events API's address")
        static let webhookSecret: Field<Credential> = .credential("webhook", "the Slack incoming webhook's URL (a secret)")
        static let webhookURL: Field<String> = .url("url", "where the page is POSTed as JSON")
        static let webhookToken: Field<Credential?> = .optionalCredential("token", "a bearer token for the webhook")
        static let pagerDuty: Field<YAMLFields?> = .section(
            "pagerduty", ConfigSection("pagers[].pagerduty", "PagerDuty's Events API v2.", routingKey, pagerDutyURL), "page PagerDuty")
        static let slack: Field<YAMLFields?> = .section(
            "slack", ConfigSection("pagers[].slack", "A Slack incoming webhook.", webhookSecret), "post to Slack")
        static let webhook: Field<YAMLFields?> = .section(
            "webhook", ConfigSection("pagers[].webhook", "Any HTTP endpoint.", webhookURL, webhookToken), "POST to a webhook")
    }

    static let pagerSection = ConfigSection(
        "pagers[]", "Where pages go; each entry is exactly one of these.", Pager.pagerDuty, Pager.slack, Pager.webhook)

    static func pager(_ item: YAMLFields) throws(ConfigError) -> PagerSettings {
        guard item.keys.count == 1 else { throw item.error(nil, "a pager is one of pagerduty, slack or webhook, with its settings") }
        if let fields = try item.read(Pager.pagerDuty) {
            return .pagerDuty(routingKey: try fields.read(Pager.routingKey), url: try fields.read(Pager.pagerDutyURL))
        }
        if let fields = try item.read(Pager.slack) { return .slack(webhook: try fields.read(Pager.webhookSecret)) }
        let fields = try item.require(Pager.webhook)
        return .webhook(url: try fields.read(Pager.webhookURL), token: try fields.read(Pager.webhookToken))
    }
}
