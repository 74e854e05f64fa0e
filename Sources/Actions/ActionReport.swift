import ControlAPI
import GatewayClient
import GitLabClient
import Lifecycle
import Selection
import VaultClient

/// A step of an action as it happens, for the journal: each is written once done, so a restart
/// knows how far an interrupted action got (names as ``ActionMachine/Step``).
public enum ExecutionStep: Sendable, Equatable {
    /// Planned and checked; about to write the secret (read at `secretVersion`) and redeploy.
    case checked(CheckedStep)
    case changeRequest(iid: Int)
    case secretWritten(version: Int)
    case jobRetried(original: Int, retried: Int)
    /// A later round retries another pipeline's job than the one checked: the deploy that carries the write now.
    case deployCarrier(pipeline: Int, sha: String, job: Int, jobName: String)
    /// The retried trigger job's downstream pipeline, where the deploy runs.
    case downstream(DownstreamPipeline)
    case deployed(status: String)
    case verified(String)
    case changeRequestClosed(iid: Int)
    /// How the write is carried to production this round (``DeployDecision``), and why.
    case deployDecision(String)
    /// A request whose answer was lost, and what reading found (``Settlement``).
    case settled(Settlement)

    /// The step's name in the journal (`step:<name>`).
    public var name: String {
        switch self {
        case .checked: "checked"
        case .changeRequest: "change-request"
        case .secretWritten: "secret-written"
        case .jobRetried: "job-retried"
        case .deployCarrier: "deploy-carrier"
        case .downstream: "downstream"
        case .deployed: "deployed"
        case .verified: "verified"
        case .changeRequestClosed: "change-request-closed"
        case .deployDecision: "deploy-decision"
        case .settled: "unknown-outcome"
        }
    }

    /// The step's journal detail; read back after a restart.
    public var detail: String {
        switch self {
        case .checked(let checked): checked.detail
        case .changeRequest(let iid): "issue \(iid)"
        case .secretWritten(let version): "version \(version)"
        case .jobRetried(let original, let retried): "job \(original) retried as \(retried)"
        case .deployCarrier(let pipeline, let sha, let job, let jobName): "\(pipeline) \(sha) \(job) \(jobName)"
        case .downstream(let pipeline): "pipeline \(pipeline.label) \(pipeline.id)"
        case .deployed(let status): "job \(status)"
        case .verified(let what): what
        case .changeRequestClosed(let iid): "issue \(iid)"
        case .deployDecision(let why): why
        case .settled(let settlement): settlement.description
        }
    }

    /// The number a detail ends with (an iid, a version, a retried job).
    public static func lastNumber(_ detail: String) -> Int? { detail.split(separator: " ").last.flatMap { Int($0) } }
}

/// What an action checked before its write, journaled as JSON: what it means to write, the
/// deploy job it retries, the defaults the gateway should then serve, and its change request.
public struct CheckedStep: Sendable, Equatable {
    public var secretVersion: Int
    public var intended: String
    /// The deploy job checked; nil for a restore that leaves the deploy to the next deployment.
    public var pipeline: Int?
    public var sha: String?
    public var job: Int?
    public var jobName: String?
    /// Feature → the models the gateway should serve, first first.
    public var expect: [String: [String]]
    /// The change request the restore closes.
    public var changeRequest: Int?
    /// The action's id (``PendingAction/id``), kept across a restart.
    public var action: String?
    /// The pipelines whose production deploy had started when the checks were made: a deploy
    /// that starts after them reads the written secret (``DeployDecision``).
    public var started: [Int]?

    public var detail: String {
        var object: [String: JSONValue] = [
            "secret_version": .number(Double(secretVersion)), "intended": .string(intended),
            "expect": .object(expect.mapValues { .array($0.map { .string($0) }) }),
        ]
        if let pipeline { object["pipeline"] = .number(Double(pipeline)) }
        if let sha { object["sha"] = .string(sha) }
        if let job { object["job"] = .number(Double(job)) }
        if let jobName { object["job_name"] = .string(jobName) }
        if let changeRequest { object["change_request"] = .number(Double(changeRequest)) }
        if let action { object["action"] = .string(action) }
        if let started { object["started"] = .array(started.map { .number(Double($0)) }) }
        return String(decoding: JSONValue.object(object).bytes, as: UTF8.self)
    }

    public init(
        secretVersion: Int, intended: String, pipeline: Int?, sha: String?, job: Int?, jobName: String?, expect: [String: [String]],
        changeRequest: Int?, action: String? = nil, started: [Int]? = nil
    ) {
        self.action = action
        self.started = started
        (self.secretVersion, self.intended, self.pipeline, self.sha, self.job, self.jobName) = (
            secretVersion, intended, pipeline, sha, job, jobName
        )
        (self.expect, self.changeRequest) = (expect, changeRequest)
    }

    public init?(detail: String) {
        guard let json = JSONValue.parse(Array(detail.utf8)), let version = json["secret_version"]?.int,
            let intended = json["intended"]?.string
        else { return nil }
        var expect: [String: [String]] = [:]
        for (feature, models) in json["expect"]?.object ?? [:] { expect[feature] = models.array?.compactMap(\.string) ?? [] }
        self.init(
            secretVersion: version, intended: intended, pipeline: json["pipeline"]?.int, sha: json["sha"]?.string, job: json["job"]?.int,
            jobName: json["job_name"]?.string, expect: expect, changeRequest: json["change_request"]?.int, action: json["action"]?.string,
            started: json["started"]?.array?.compactMap(\.int))
    }
}

/// What a failover or restore of one target came to.
public struct ActionReport: Sendable {
    public typealias Outcome = ActionOutcome
    public var target: String
    /// Which action of which provider, once the running agent has kept it (``AgentLoop/actionsDone``).
    public var kind: ActionKind?
    public var provider: String?
    public var plan: Plan?
    public var outcome: Outcome
    /// Owned keys a person changed since the agent wrote them: left as they are.
    public var leftToPeople: [String] = []
    /// The secret version planned from and the pipeline SHA the redeploy would deploy, once checked.
    public var secretVersion: Int?
    public var deploySHA: String?
    /// True once the gateway served the plan; nil when no gateway is configured to ask.
    public var verified: Bool?
    /// The change request issue (iid) of this action, and why one could not be opened or closed.
    public var changeRequest: Int?
    public var changeRequestProblem: String?
    /// A restore written without a redeploy: what the next deployment should make the gateway serve.
    public var awaiting: AwaitedDeployment?
    /// What the configured key is to hold once written ("" when removed), once planned: a
    /// proposal pins it (``PinnedPlan``).
    public var intended: String?
    /// How the deploy was chosen (``DeployDecision``): the case and why.
    public var deployDecision: String?
    /// The downstream pipeline the redeploy ran in, once followed.
    public var downstream: DownstreamPipeline?
    /// Replacement models probed right before the write, and the class each got.
    public var preflight: [(model: String, resultClass: String)] = []
    /// The readiness checks the action needs that failed when it was planned (it wrote nothing then).
    public var unready: [ReadinessCheck] = []
    /// What the action met that a person should know (a deleted latest version of the secret).
    public var warnings: [String] = []

    public init(target: String, plan: Plan? = nil, outcome: Outcome) {
        self.target = target
        self.plan = plan
        self.outcome = outcome
    }
}

/// What a caller asks of one action beyond its kind and subject.
public struct ActionTerms: Sendable, Equatable {
    /// The plan a person approved (see ``PinnedPlan``); its replacements were pre-flighted then.
    public var pinned: PinnedPlan?
    /// Planning without writing (a proposal) pre-flights the replacements as a write would.
    public var preflightWhenPlanning = false
    /// The other targets of its group (``Target/group``): one incident, one change request.
    public var groupMembers: [String] = []
    /// A failover: the change request an earlier member of the group opened, carried on in.
    public var sharedChangeRequest: Int?
    /// A restore: false for all but the group's last member, which closes the change request.
    public var closesChangeRequest = true
    /// A fire drill's half: its change request says so, and its restore redeploys and is verified at once.
    public var drill = false

    public init(
        pinned: PinnedPlan? = nil, preflightWhenPlanning: Bool = false, groupMembers: [String] = [], sharedChangeRequest: Int? = nil,
        closesChangeRequest: Bool = true, drill: Bool = false
    ) {
        self.drill = drill
        self.pinned = pinned
        self.preflightWhenPlanning = preflightWhenPlanning
        self.groupMembers = groupMembers
        self.sharedChangeRequest = sharedChangeRequest
        self.closesChangeRequest = closesChangeRequest
    }
}

extension ActionReport {
    /// Takes in what the plan rounds found, as far as they got.
    mutating func absorb(_ findings: PlanMachine.Findings) {
        if let left = findings.leftToPeople { leftToPeople = left }
        (warnings, preflight) = (findings.warnings, findings.preflight)
        if let plan = findings.plan { self.plan = plan }
        if let decision = findings.deployDecision { deployDecision = decision }
        guard let version = findings.secretVersion else { return }
        (secretVersion, deploySHA, intended) = (version, findings.deploySHA, findings.intended)
    }
}
