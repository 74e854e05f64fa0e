/// How a failover or a restore of one target ended.
public enum ActionOutcome: Sendable, Equatable {
    /// Shown, not applied (no `--yes`, or a proposal's plan).
    case planned
    case nothingToDo(String)
    /// Written, and the deploy job succeeded (whether the gateway serves it: ``ActionReport``'s `verified`).
    case deployed
    /// Written; the deploy failed (the job, or a trigger job's downstream pipeline, ended other than success): why.
    case deployFailed(status: String)
    /// Written; the next regular deployment picks it up (the runbook's restore).
    case written
    /// Deployed, but the gateway did not serve the planned defaults in time.
    case notVerified(String)
    /// Not applied; nothing was left changed.
    case refused(String)
    /// Stopped part-way; what is recorded as under way is settled again later.
    case failed(String)
    /// Written and the job retried, but the agent stopped (shutdown) before the job ended; the
    /// owed redeploy stays recorded in the secret's metadata and is followed at the next start.
    case interrupted(String)
    /// A restart found it stopped before its write, and the secret changed since: not carried out.
    case abandoned(String)

    /// The `outcome` label of `failover_agent_actions_total`.
    public var metricLabel: String {
        switch self {
        case .planned: "planned"
        case .nothingToDo: "nothing_to_do"
        case .deployed: "deployed"
        case .deployFailed: "deploy_failed"
        case .written: "written"
        case .notVerified: "not_verified"
        case .refused: "refused"
        case .failed: "failed"
        case .interrupted: "interrupted"
        case .abandoned: "abandoned"
        }
    }

    /// One line for the journal and pages.
    public var summary: String {
        switch self {
        case .planned: "planned"
        case .nothingToDo(let why): "nothing to do: \(why)"
        case .deployed: "deployed: job success"
        case .deployFailed(let why): "deploy failed: \(why)"
        case .written: "written: the next deployment picks it up"
        case .notVerified(let why): "not verified: \(why)"
        case .refused(let why): "refused: \(why)"
        case .failed(let why): "failed: \(why)"
        case .interrupted(let why): "interrupted: \(why)"
        case .abandoned(let why): "abandoned after restart: \(why)"
        }
    }

    /// Whether the change is in the secret (deployed or not): what an approval carried out.
    public var changedTheSecret: Bool {
        switch self {
        case .deployed, .deployFailed, .written, .notVerified, .interrupted: true
        case .planned, .nothingToDo, .refused, .failed, .abandoned: false
        }
    }
}
