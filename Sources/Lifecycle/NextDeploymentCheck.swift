/// What one check of a restore's next deployment found (a restore written without a redeploy is
/// verified once the next regular deployment is out).
public enum NextDeploymentCheck: Sendable, Equatable {
    /// No deployment since the restore yet, or GitLab could not tell: check again after `seconds`.
    case notYet(checkAgainIn: Double)
    /// Deployed, and the gateway serves the restore.
    case verified
    /// Deployed and the gateway does not serve the restore, or no deployment came in time.
    case notVerified(String)
}

extension NextDeploymentCheck {
    /// The restore's outcome in `failover_agent_actions_total` once final: `verified` or `not_verified`.
    public var metricLabel: String? {
        switch self {
        case .notYet: nil
        case .verified: "verified"
        case .notVerified: "not_verified"
        }
    }
}
