import Selection

/// What the plan step is given, asks, is answered and finds.
extension PlanMachine {
    /// What the action is and what its configuration allows.
    public struct Setup: Sendable {
        public var kind: ActionKind
        /// A provider, or `provider/model`.
        public var provider: String
        /// The agent's planner (its catalog files).
        public var planner: Planner
        /// Subjects never chosen as replacements (unhealthy by the health machine).
        public var avoid: Set<String>
        /// The plan a person approved: its replacements were pre-flighted then.
        public var pinned: PinnedPlan?
        /// Carry the plan out (the checks journaled, the write may follow), or only plan it.
        public var apply: Bool
        /// Planning without writing (a proposal) pre-flights as a write would.
        public var preflightWhenPlanning: Bool
        /// A probe can be asked for the replacements.
        public var canProbe: Bool
        /// A restore redeploys at once (`restore_redeploy`, or a drill); else the next deployment carries it.
        public var restoreRedeploys: Bool
        /// A gateway is asked whether it serves the change.
        public var verifies: Bool
        /// For messages: the target's name and the secret's `mount/path`.
        public var target: String
        public var secret: String

        public init(
            kind: ActionKind, provider: String, planner: Planner, avoid: Set<String> = [], pinned: PinnedPlan? = nil, apply: Bool,
            preflightWhenPlanning: Bool = false, canProbe: Bool = false, restoreRedeploys: Bool = false, verifies: Bool = false,
            target: String, secret: String
        ) {
            (self.kind, self.provider, self.planner, self.avoid, self.pinned, self.apply) = (kind, provider, planner, avoid, pinned, apply)
            (self.preflightWhenPlanning, self.canProbe, self.restoreRedeploys, self.verifies) = (
                preflightWhenPlanning, canProbe, restoreRedeploys, verifies
            )
            (self.target, self.secret) = (target, secret)
        }
    }

    /// What the executor does next.
    public enum Request: Sendable, Equatable {
        /// Read the secret and the ownership record (a pending write settled by reading): ``Answer/read(_:)``.
        case read
        /// Run the readiness checks this action needs: ``Answer/unready(_:)``.
        case readiness
        /// Read the catalog the deployed image serves: ``Answer/deployedCatalog(_:)``.
        case deployedCatalog
        /// Probe these replacement models now: ``Answer/probed(_:)``.
        case preflight([String])
        /// Read this version of the secret, which a restore puts back: ``Answer/replaced(value:)``.
        case readReplaced(version: Int)
        /// Record this ownership: people changed every key the agent owned, so it lets go of them.
        case letGo(Ownership)
        /// Read what GitLab shows of production and the deploy branch: ``Answer/deployFacts(_:)``.
        case deployFacts
        /// Mark where deployments stand, for the check of the next deployment: ``Answer/marked``.
        case markDeployments
        /// Journal what the checks found (the write may follow): ``Answer/journaled``.
        case journal(Checked)
        /// The step's result (``checked`` holds what it found when it is `.checked`).
        case finish(ActionMachine.Result)
    }

    public enum Answer: Sendable, Equatable {
        case read(SecretSnapshot)
        /// The needed checks that fail now, each as "name: reason".
        case unready([String])
        /// nil: neither a gateway nor a catalog reader can say.
        case deployedCatalog(DeployedCatalog?)
        /// Each model's probe class; a model without a probe is left out.
        case probed([String: String])
        /// The configured key's value in that version; nil when it is deleted or holds none.
        case replaced(value: String?)
        case recorded
        case deployFacts(DeployFacts)
        case marked
        case journaled
    }

    /// What to write to the configured key.
    public enum Write: Sendable, Equatable {
        /// This override, the secret's other keys kept.
        case override(ModelOverride)
        /// The version the agent first replaced, as it was (``Request/readReplaced(version:)``);
        /// when that was version 0 or is deleted, the secret as it is without the agent's key.
        case putBack(version: Int)
    }

    /// What the checks found, for the write and the redeploy that follow.
    public struct Checked: Sendable, Equatable {
        public var write: Write
        /// What the configured key is to hold ("" when removed).
        public var intended: String
        /// The ownership record once written.
        public var next: Ownership
        public var checks: ActionMachine.Checks
        /// Feature → the models the gateway should then serve, first first.
        public var expect: [String: [String]]
    }

    /// What the report says of the plan, as far as it got.
    public struct Findings: Sendable {
        /// Owned keys a person changed since, once the secret is read.
        public var leftToPeople: [String]?
        public var warnings: [String] = []
        public var preflight: [(model: String, resultClass: String)] = []
        public var plan: Plan?
        public var deployDecision: String?
        public var secretVersion: Int?
        public var deploySHA: String?
        public var intended: String?

        public init() {}

        /// These findings, then a later round's: every warning and pre-flight result, the later plan and checks.
        public func merged(_ later: Findings) -> Findings {
            var merged = later
            merged.leftToPeople = later.leftToPeople ?? leftToPeople
            merged.warnings = warnings + later.warnings
            merged.preflight = preflight + later.preflight
            merged.plan = later.plan ?? plan
            merged.deployDecision = later.deployDecision ?? deployDecision
            if later.secretVersion == nil {
                (merged.secretVersion, merged.deploySHA, merged.intended) = (secretVersion, deploySHA, intended)
            }
            return merged
        }
    }
}
