import Selection

/// A step of an action as it happens, for the journal: the run loop writes each before going on,
/// so a restart knows how far an interrupted action got.
public enum ExecutionStep: Sendable, Equatable {
    /// Checks passed; about to write the secret (read at `secretVersion`) and then retry `job`.
    case checked(secretVersion: Int, intended: String, pipeline: Int, sha: String, job: Int, jobName: String)
    case secretWritten(version: Int)
    case jobRetried(original: Int, retried: Int)
}

/// What a failover or restore of one target came to.
public struct ActionReport: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Shown, not applied (no `--yes`).
        case planned
        case nothingToDo(String)
        /// Applied; the deploy job ended with this status.
        case deployed(jobStatus: String)
        /// Not applied; nothing was left changed.
        case refused(String)
        case failed(String)
        /// Written and the job retried, but the agent stopped (shutdown) before the job ended; the
        /// owed redeploy stays recorded in the secret's metadata and is followed at the next start.
        case interrupted(String)
    }
    public var target: String
    public var plan: Plan?
    public var outcome: Outcome
    /// Owned keys a person changed since the agent wrote them: left as they are.
    public var leftToPeople: [String] = []
    /// The secret version planned from and the pipeline SHA the redeploy would deploy, once checked.
    public var secretVersion: Int?
    public var deploySHA: String?

    public init(target: String, plan: Plan? = nil, outcome: Outcome) {
        self.target = target
        self.plan = plan
        self.outcome = outcome
    }
}

extension ActionReport.Outcome {
    /// The `outcome` label of `failover_agent_actions_total`.
    public var metricLabel: String {
        switch self {
        case .planned: "planned"
        case .nothingToDo: "nothing_to_do"
        case .deployed(let status): status == "success" ? "deployed" : "deploy_failed"
        case .refused: "refused"
        case .failed: "failed"
        case .interrupted: "interrupted"
        }
    }

    /// One line for the journal and pages.
    public var summary: String {
        switch self {
        case .planned: "planned"
        case .nothingToDo(let why): "nothing to do: \(why)"
        case .deployed(let status): "deployed: job \(status)"
        case .refused(let why): "refused: \(why)"
        case .failed(let why): "failed: \(why)"
        case .interrupted(let why): "interrupted: \(why)"
        }
    }
}
