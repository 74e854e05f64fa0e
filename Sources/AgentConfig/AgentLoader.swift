import AgentCore
import Foundation
import Leadership
import Paging
import YAMLConfig

enum AgentLoader {
    static func parse(_ yaml: YAMLFields, path: (String) -> String) throws(ConfigError) -> AgentConfiguration.AgentSettings {
        try yaml.rejectUnknownKeys([
            "probes", "journal", "listen", "api_token_env", "api_token_file", "restore_mode", "proposal_lifetime", "max_failovers_per_hour",
            "leader_election", "log_format", "max_probe_cost_per_day",
        ])
        var agent = AgentConfiguration.AgentSettings()
        agent.probes = path(try yaml.optionalString("probes") ?? agent.probes)
        agent.probesGiven = yaml.has("probes")
        agent.journal = path(try yaml.optionalString("journal") ?? agent.journal)
        if let listen = try yaml.optionalString("listen") {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
                throw yaml.error("listen", "'\(listen)' is not host:port")
            }
            (agent.listenHost, agent.listenPort) = (String(parts[0]), port)
        }
        if let token = try yaml.credential("api_token", required: false, path: path) { agent.apiToken = token }
        if let mode = try yaml.optionalString("restore_mode") {
            guard let value = ActionMode(rawValue: mode) else { throw yaml.error("restore_mode", "'\(mode)' is not propose or perform") }
            agent.restoreMode = value
        }
        if let budget = try yaml.optionalDouble("max_probe_cost_per_day") {
            guard budget > 0 else { throw yaml.error("max_probe_cost_per_day", "must be more than 0 (US dollars a day)") }
            agent.maxProbeCostPerDay = budget
        }
        agent.proposalLifetime = try yaml.duration("proposal_lifetime", default: .seconds(900)).seconds
        if let cap = try yaml.optionalInt("max_failovers_per_hour") {
            guard cap >= 1 else { throw yaml.error("max_failovers_per_hour", "must be at least 1") }
            agent.maxFailoversPerHour = cap
        }
        if let format = try yaml.optionalString("log_format") {
            guard let value = AgentConfiguration.LogFormat(rawValue: format) else {
                throw yaml.error("log_format", "'\(format)' is not text or json")
            }
            agent.logFormat = value
        }
        if let election = try yaml.optionalFields("leader_election") { agent.leaderElection = try leaderElection(election, path: path) }
        return agent
    }

    static func leaderElection(_ yaml: YAMLFields, path: (String) -> String) throws(ConfigError)
        -> AgentConfiguration.LeaderElectionSettings
    {
        try yaml.rejectUnknownKeys([
            "api_server", "namespace", "name", "identity_env", "address_env", "token_env", "token_file", "ca_file", "lease_duration",
            "renew_deadline", "retry_period",
        ])
        var settings = AgentConfiguration.LeaderElectionSettings(namespace: try yaml.string("namespace"))
        settings.apiServer = try yaml.optionalString("api_server") ?? settings.apiServer
        guard settings.apiServer.hasPrefix("https://") || settings.apiServer.hasPrefix("http://") else {
            throw yaml.error("api_server", "'\(settings.apiServer)' must start with https:// or http://")
        }
        settings.name = try yaml.optionalString("name") ?? settings.name
        settings.identityEnv = try yaml.optionalString("identity_env") ?? settings.identityEnv
        settings.addressEnv = try yaml.optionalString("address_env")
        if let token = try yaml.credential(required: false, path: path) { settings.token = token }
        if let ca = try yaml.optionalString("ca_file") {
            settings.caFile = path(ca)
        } else if settings.apiServer.hasPrefix("http://") {
            settings.caFile = nil
        }
        settings.timing.leaseDuration = try yaml.duration("lease_duration", default: .seconds(15), max: .seconds(600)).seconds
        settings.timing.renewDeadline = try yaml.duration("renew_deadline", default: .seconds(10), max: .seconds(600)).seconds
        settings.timing.retryPeriod = try yaml.duration("retry_period", default: .seconds(2), max: .seconds(300)).seconds
        guard settings.timing.renewDeadline < settings.timing.leaseDuration else {
            throw yaml.error(
                "renew_deadline", "must be shorter than lease_duration, so a leader that cannot renew stops before another may take over")
        }
        guard settings.timing.retryPeriod < settings.timing.renewDeadline else {
            throw yaml.error("retry_period", "must be shorter than renew_deadline")
        }
        return settings
    }

    static func pager(_ item: YAMLFields, path: (String) -> String) throws(ConfigError) -> PagerSettings {
        guard item.keys.count == 1, let kind = item.keys.first, let fields = try item.optionalFields(kind) else {
            throw item.error(nil, "a pager is one of pagerduty, slack or webhook, with its settings")
        }
        switch kind {
        case "pagerduty":
            try fields.rejectUnknownKeys(["routing_key_env", "routing_key_file", "url"])
            return .pagerDuty(
                routingKey: try fields.credential("routing_key", path: path)!,
                url: fields.has("url") ? try url(fields, "url") : "https://events.pagerduty.com")
        case "slack":
            try fields.rejectUnknownKeys(["webhook_env", "webhook_file"])
            return .slack(webhook: try fields.credential("webhook", path: path)!)
        case "webhook":
            try fields.rejectUnknownKeys(["url", "token_env", "token_file"])
            return .webhook(url: try url(fields, "url"), token: try fields.credential(required: false, path: path))
        default:
            throw item.error(kind, "is not a pager (pagerduty, slack or webhook)")
        }
    }

}
