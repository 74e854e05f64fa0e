/// Which deploy carries a written override to production while `main` moves (pure): the runbook's
/// invariant is kept — never deploy an image older than the one production runs, never ship code
/// nobody released — and still a deploy is found in every state of the pipelines.
public enum DeployDecision: Sendable, Equatable {
    /// Retry this pipeline's production trigger: it is what production runs (the same image).
    case retry(DeployFacts.Candidate, why: String)
    /// A newer pipeline's production deploy has not started: it reads the secret when it starts.
    /// Write, then follow it instead of retrying anything.
    case follow(DeployFacts.Candidate, why: String)
    /// A newer pipeline's production deploy is running (it read the secret before the write):
    /// wait for it to end, then decide again (it is then what production runs).
    case wait(DeployFacts.Candidate, why: String)
    /// No deploy can carry the change without breaking the invariant; nothing is written.
    case refuse(String)

    /// Why, as pages, change requests and the journal say it.
    public var reason: String {
        switch self {
        case .retry(_, let why), .follow(_, let why), .wait(_, let why), .refuse(let why): why
        }
    }

    /// The pipeline the decision is about.
    public var candidate: DeployFacts.Candidate? {
        switch self {
        case .retry(let candidate, _), .follow(let candidate, _), .wait(let candidate, _): candidate
        case .refuse: nil
        }
    }

    /// Decides from what GitLab shows now. `startedBeforeWrite`: once the secret is written, the
    /// pipelines whose production deploy had started by then (as first seen after the write: a
    /// deploy seen starting then is taken to have read the old secret); a deploy running that is
    /// not among them started after the write and carries it.
    public static func decide(_ facts: DeployFacts, startedBeforeWrite: Set<Int>? = nil) -> DeployDecision {
        guard let running = facts.productionPipeline else {
            return .refuse(
                facts.production.map { "production runs \($0.sha.prefix(12)), which no pipeline of the deploy branch's last ones built" }
                    ?? "no pipeline of the deploy branch has deployed to production yet: what production runs is unknown")
        }
        let label = "pipeline #\(running.pipeline) at \(running.sha.prefix(12))"
        let newer = facts.pipelines.filter { $0.pipeline > running.pipeline }  // newest first
        // A newer deploy under way read the secret before the write: wait for it, then decide again.
        if let deploying = newer.first(where: { $0.deploy == .running }) {
            if let before = startedBeforeWrite, !before.contains(deploying.pipeline) {
                return .follow(
                    deploying,
                    why: "the production deploy of the newer pipeline #\(deploying.pipeline) at \(deploying.sha.prefix(12)) started "
                        + "after the write: following it, as it carries the written secret")
            }
            return .wait(
                deploying,
                why: "the production deploy of the newer pipeline #\(deploying.pipeline) at \(deploying.sha.prefix(12)) is running: "
                    + "waiting for it to end, then retrying it (it is then what production runs)")
        }
        if running.deploy == .running {
            if let before = startedBeforeWrite, !before.contains(running.pipeline) {
                return .follow(running, why: "the production deploy of \(label) started after the write: following it")
            }
            return .wait(running, why: "the production deploy of \(label), which production runs, is running: waiting for it to end")
        }
        // A newer deploy about to start reads the secret when it starts: follow it.
        if let pending = newer.first(where: { $0.deploy == .pending }) {
            return .follow(
                pending,
                why: "the newer pipeline #\(pending.pipeline) at \(pending.sha.prefix(12)) deploys to production when it reaches its "
                    + "trigger job: following that deploy, which reads the written secret, instead of retrying anything")
        }
        // Its trigger retried (by an earlier attempt that stopped before it could say so, or by a
        // person) and not started yet: that deploy reads the secret when it starts.
        if running.deploy == .pending, running.trigger != nil {
            return .follow(
                running,
                why: "the production trigger job of \(label), which production runs, was retried and has not started: following "
                    + "that deploy, which reads the written secret, instead of retrying it again")
        }
        guard running.trigger.map({ DeployFacts.retryable.contains($0.status) }) == true else {
            return .refuse(
                "the production trigger job of \(label), which production runs, is \(running.trigger?.status ?? "missing"): "
                    + "it cannot be retried")
        }
        var why = "\(label) is what production runs"
        if let head = newer.first {
            switch head.deploy {
            case .manual:
                why +=
                    "; the newer pipeline #\(head.pipeline)'s production deploy waits for a person (manual): retrying the image "
                    + "production runs, never playing the newer one"
            case .failed:
                why += "; the newer pipeline #\(head.pipeline)'s production deploy failed: retrying the image production runs instead"
            default:
                why += "; newer pipeline #\(head.pipeline) deploys nothing to production"
            }
        } else {
            why += " and the newest pipeline of the branch"
        }
        return .retry(running, why: why)
    }
}

/// What GitLab shows of production and of the deploy branch's pipelines that deploy (values only).
public struct DeployFacts: Sendable, Equatable {
    /// The environment's last successful deployment.
    public struct Deployed: Sendable, Equatable {
        public var sha: String
        /// The pipeline that made it, when GitLab says.
        public var pipeline: Int?
        public init(sha: String, pipeline: Int?) { (self.sha, self.pipeline) = (sha, pipeline) }
    }

    /// A pipeline's production trigger job.
    public struct Trigger: Sendable, Equatable {
        public var job: Int
        public var name: String
        public var status: String
        /// The downstream deploy pipeline's status; nil before it exists.
        public var downstream: String?
        public var isBridge: Bool
        public init(job: Int, name: String, status: String, downstream: String? = nil, isBridge: Bool = true) {
            (self.job, self.name, self.status, self.downstream, self.isBridge) = (job, name, status, downstream, isBridge)
        }
    }

    /// Where a pipeline's production deploy stands.
    public enum Deploy: Sendable, Equatable {
        /// Not started yet: the trigger job is created, pending or waiting (or the pipeline has none yet).
        case pending
        /// Waiting for a person to play it.
        case manual
        case running
        case succeeded
        /// Failed, canceled or skipped.
        case failed
    }

    public struct Candidate: Sendable, Equatable {
        public var pipeline: Int
        public var sha: String
        public var trigger: Trigger?
        public init(pipeline: Int, sha: String, trigger: Trigger?) { (self.pipeline, self.sha, self.trigger) = (pipeline, sha, trigger) }

        public var deploy: Deploy {
            guard let trigger else { return .pending }
            switch trigger.status {
            case "manual": return .manual
            case "created", "waiting_for_resource", "preparing", "pending", "scheduled": return .pending
            case "running": return .running
            case "failed", "canceled", "skipped": return .failed
            default:
                guard trigger.isBridge else { return trigger.status == "success" ? .succeeded : .running }
                switch trigger.downstream {
                // A trigger job succeeds once its downstream pipeline exists; one that shows none is taken as done.
                case "success", nil: return .succeeded
                case "failed", "canceled", "skipped": return .failed
                default: return .running
                }
            }
        }
    }

    /// Trigger job states GitLab retries.
    public static let retryable: Set<String> = ["success", "failed", "canceled"]

    /// The environment's last successful deployment; nil when no `environment` is configured.
    public var production: Deployed?
    /// The deploy branch's pipelines of deploying sources, newest first.
    public var pipelines: [Candidate]

    public init(production: Deployed?, pipelines: [Candidate]) {
        self.production = production
        self.pipelines = pipelines.sorted { $0.pipeline > $1.pipeline }
    }

    /// The pipelines whose production deploy has started (running, done or failed).
    public var started: Set<Int> { Set(pipelines.filter { $0.deploy != .pending && $0.deploy != .manual }.map(\.pipeline)) }

    /// The pipeline production runs: the one the deployment names; else the newest with its SHA
    /// whose deploy succeeded; without an environment, the newest whose deploy succeeded.
    /// A newer pipeline whose deploy has just succeeded is what production runs, even before the
    /// environment's deployments list shows it.
    public var productionPipeline: Candidate? {
        let newestDeployed = pipelines.first { $0.deploy == .succeeded }
        guard let production else { return newestDeployed }
        let named =
            production.pipeline.flatMap { id in pipelines.first { $0.pipeline == id } }
            ?? pipelines.first { $0.sha == production.sha && $0.deploy == .succeeded } ?? pipelines.first { $0.sha == production.sha }
        guard let named else { return nil }
        if let newestDeployed, newestDeployed.pipeline > named.pipeline { return newestDeployed }
        return named
    }
}
