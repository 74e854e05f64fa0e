@_exported import Lifecycle
import ProbeResults

/// What the agent core tells the run loop to do. The loop carries these out (planning, the
/// journal, Vault, GitLab, pagers) and reports back; the core never does I/O.
public enum AgentCommand: Sendable, Equatable {
    case alert(Alert)
    /// Plan the action, record a proposal that expires, and page its approve command.
    case propose(ActionKind, provider: String, target: String)
    /// Carry the action out now (after re-validating the plan). `proposal` when approved by a person.
    case execute(ActionKind, provider: String, target: String, proposal: String?)
    /// A line for the log: a decision worth telling.
    case log(LogLine)
    /// Start a probe of each of these endpoints (probe names).
    case probe([String])
    /// On taking the lead: finish what the journal has open.
    case recoverJournal
    /// Settle what each target's secret records as under way, then read what the agent owns there.
    case readOwnership([String])
    /// Settle what this target's secret records as under way, again.
    case settle(String)
    /// The pause this replica shares in the Lease (nil: none, as a follower).
    case sharePause(Bool?)
    /// The journal's status of an approved proposal, once it is carried out, fails or is superseded.
    case markProposal(String, ProposalEnd)
    /// Check once whether the target's next deployment is out and, if so, whether it serves the
    /// restore of the provider; report it as ``AgentCore/Event/deploymentChecked(target:watch:_:)``.
    case checkNextDeployment(target: String, provider: String, watch: Int, AwaitedDeployment)
    /// A fire drill of the target: fail the provider over and restore it, both verified (``DrillSettings``).
    case drill(target: String, provider: String)
}

/// A line for the log, with its level and what it is about (`provider`, `target`, `proposal`).
public struct LogLine: Sendable, Equatable, ExpressibleByStringLiteral, CustomStringConvertible {
    public enum Level: String, Sendable { case debug, info, notice, warning, error }
    public var level: Level
    public var message: String
    public var metadata: [String: String]

    public init(_ level: Level = .info, _ message: String, _ metadata: [String: String] = [:]) {
        (self.level, self.message, self.metadata) = (level, message, metadata)
    }

    public init(stringLiteral message: String) { self.init(.info, message) }
    public var description: String { message }
}

/// How an approved proposal ended, for the journal.
public enum ProposalEnd: String, Sendable, Equatable { case executed, failed, superseded }

/// Why an approval or rejection did nothing.
public enum ProposalRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case unknown(String)
    case expired(String)
    case alreadyDecided(String, status: String)
    /// The provider is no longer in the state the proposal was for.
    case stale(String, why: String)
    case paused
    /// Most providers' probes fail without an answer: the agent cannot see what it would act on.
    case blind

    public var description: String {
        switch self {
        case .unknown(let id): "no proposal \(id)"
        case .expired(let id): "proposal \(id) has expired; a new one is paged if the provider is still failing"
        case .alreadyDecided(let id, let status): "proposal \(id) is already \(status)"
        case .stale(let id, let why): "proposal \(id) no longer applies: \(why)"
        case .paused: "the agent is paused: it acts on nothing until `failover-agent resume`"
        case .blind:
            "the agent is blind (its probes of most providers fail without an answer): it acts on nothing until they answer "
                + "again; the proposal stays open, approve it again then"
        }
    }
}
