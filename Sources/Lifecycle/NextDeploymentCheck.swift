/// A change the next regular deployment picks up: a running agent verifies it then.
public struct AwaitedDeployment: Sendable, Equatable {
    /// Feature → the models the gateway should serve after that deployment.
    public var expect: [String: [String]]
    /// Where deployments stood before the write (``GitLab/deployMarker()``).
    public var since: Int
    /// The change request to note the verification on.
    public var changeRequest: Int?
    /// When, on the executor's clock, waiting gives up: the restore's time plus the gateway's `next_deployment_timeout`.
    public var deadline: Duration

    public init(expect: [String: [String]], since: Int, changeRequest: Int?, deadline: Duration) {
        (self.expect, self.since, self.changeRequest, self.deadline) = (expect, since, changeRequest, deadline)
    }
}

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

extension AwaitedDeployment {
    /// A check that found no deployment since the restore, at `now` on the executor's clock: check
    /// again after `poll` seconds, or, past ``deadline``, not verified (`timeout`: the gateway's
    /// `next_deployment_timeout`, for the message).
    public func undeployed(at now: Duration, poll: Double, timeout: Duration) -> NextDeploymentCheck {
        guard now >= deadline else { return .notYet(checkAgainIn: poll) }
        return .notVerified(
            "no deployment succeeded within \(timeout) of the restore: the secret holds it, but the gateway does not serve it "
                + "until the next deployment (or a redeploy by hand)")
    }
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
