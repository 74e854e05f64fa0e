/// Every metric the agent exports, with the HELP text `/metrics` gives it. The alert rules in
/// `deploy/prometheus/` and the dashboard in `deploy/grafana/` use only these names.
public enum MetricName: String, CaseIterable, Sendable {
    case probeDuration = "failover_agent_probe_duration_seconds"
    case probeResults = "failover_agent_probe_results_total"
    case lastProbe = "failover_agent_last_probe_timestamp_seconds"
    case probeBroken = "failover_agent_probe_broken"
    case providerState = "failover_agent_provider_state"
    case providerErrorRate = "failover_agent_provider_error_rate"
    case actions = "failover_agent_actions_total"
    case proposals = "failover_agent_proposals_total"
    case proposalExpiry = "failover_agent_proposal_next_expiry_timestamp_seconds"
    case pages = "failover_agent_pages_total"
    case leader = "failover_agent_leader"
    case paused = "failover_agent_paused"
    case blind = "failover_agent_blind"
    case ready = "failover_agent_ready"
    case credentialExpiry = "failover_agent_credential_expiry_timestamp_seconds"
    case trafficTrusted = "failover_agent_traffic_trusted"
    case drillLastSuccess = "failover_agent_drill_last_success_timestamp_seconds"
    case drillLastResult = "failover_agent_drill_last_result"
    case drillInterval = "failover_agent_drill_interval_seconds"

    /// The `# HELP` line's text.
    public var help: String {
        switch self {
        case .probeDuration: "Probe duration by phase (dns, connect, tls, first_byte, total), per provider"
        case .probeResults:
            "Probe results per provider and result class (ok, slow, http_5xx, overloaded, rate_limited, timeout, connect, tls, auth, "
                + "bad_request, bad_body)"
        case .lastProbe: "Unix time of the last probe result per provider"
        case .probeBroken:
            "1 while the provider's probe is refused for our own reasons (auth or bad_request): the agent cannot judge that provider"
        case .providerState: "1 for the provider's current health state (healthy, suspect, failing, recovering), 0 for the others"
        case .providerErrorRate: "Failure rate of the provider's probes in the health window (0 to 1)"
        case .actions:
            "Failovers and restores carried out, by outcome (deployed, deploy_failed, refused, failed, interrupted, nothing_to_do)"
        case .proposals: "Proposals paged for a person to approve, per action and target"
        case .proposalExpiry: "Unix time at which the target's first open proposal expires; 0 when none is open"
        case .pages: "Pages sent to the pagers, by whether every pager took them"
        case .leader: "1 while this replica holds the Lease and acts"
        case .paused: "1 while the agent is paused: it probes and pages but takes no action"
        case .blind: "1 while most providers fail without an answer at once: the agent suspects its own network and takes no action"
        case .ready:
            "1 while the target's readiness check (vault, gitlab, deploy_job, gateway) passes: a failover started now would go through"
        case .credentialExpiry: "Unix time at which the target's credential (vault, gitlab) expires; 0 when it does not or renews by login"
        case .trafficTrusted:
            "1 while the gateway's traffic (targets[].traffic) is evidence; 0 while its source is down, stale, reset or implausible"
        case .drillLastSuccess:
            "Unix time of the target's last fire drill that succeeded (both halves verified, everything back); the agent's start while none has"
        case .drillLastResult: "1 when the target's last fire drill succeeded, 0 when it failed; absent before the first"
        case .drillInterval: "The target's drill.every in seconds: a drill should succeed at least this often"
        }
    }
}
