import ProbeResults
import Selection

/// The plan step of an action, pure: answers in, the next request out. It decides what the
/// action changes and whether it may: the plan from the secret as read, the readiness the action
/// needs, the catalog the deployed image serves, the pre-flight of every replacement (a failing
/// one is avoided and the plan made again), the gateway's validation, the deploy that would carry
/// the write (``DeployDecision``) and, for an approved plan, that it is still the one approved.
/// The executor makes each request and feeds the answer back; it touches nothing but letting go of
/// keys people took over.
public struct PlanMachine: Sendable {
    /// What a round of planning decided: the plan, the providers failed over after it, and the version a restore puts back.
    private struct Decision {
        var plan: Plan
        var providers: [String]
        var putBack: Int?
    }

    public let setup: Setup
    public private(set) var request: Request = .read
    public private(set) var findings = Findings()
    /// What the checks found, once journaling it is asked.
    public private(set) var checked: Checked?
    private var snapshot = SecretSnapshot(
        version: 0, deleted: false, current: ModelOverride(), recorded: Ownership(), ownership: Ownership())
    /// A failover's planner is limited to the catalog the deployed gateway serves.
    private var planner: Planner
    /// Subjects never chosen as replacements: ``Setup/avoid`` and the replacements that failed their pre-flight.
    public private(set) var avoid: Set<String>
    private var decision: Decision?
    private var preflighted: Set<String> = []
    private var replacedValue: String?
    private var carrier: DeployFacts.Candidate?
    private var started: Set<Int>?

    public init(_ setup: Setup) {
        self.setup = setup
        planner = setup.planner
        avoid = setup.avoid
    }

    /// Feeds back what the current request came to; returns the next one.
    @discardableResult
    public mutating func answered(_ answer: Answer) -> Request {
        switch (request, answer) {
        case (.read, .read(let snapshot)): request = read(snapshot)
        case (.readiness, .unready(let problems)): request = ready(problems)
        case (.deployedCatalog, .deployedCatalog(let deployed)):
            if deployed == nil {
                findings.warnings.append(
                    "no gateway is configured for \(setup.target) and no catalog reader: the plan is checked against the agent's catalog "
                        + "files only, not the catalog of the deployed image")
            }
            planner = setup.planner.within(deployed)
            request = decide()
        case (.preflight(let models), .probed(let classes)): request = probed(models, classes)
        case (.readReplaced, .replaced(let value)):
            replacedValue = value
            request = preflight()
        case (.letGo, .recorded): request = .finish(.nothingToDo(lettingGo))
        case (.deployFacts, .deployFacts(let facts)):
            let deploy = DeployDecision.decide(facts)
            guard let candidate = deploy.candidate else {
                request = .finish(.refused(deploy.reason))
                break
            }
            findings.deployDecision = deploy.reason
            (carrier, started) = (candidate, facts.started)
            request = checkPinned()
        case (.markDeployments, .marked): request = checkPinned()
        case (.journal(let checked), .journaled): request = .finish(.checked(checked.checks))
        case (.finish, _): break
        default: request = .finish(.failed("the plan step was answered \(answer) out of turn"))
        }
        return request
    }

    private mutating func read(_ snapshot: SecretSnapshot) -> Request {
        self.snapshot = snapshot
        findings.leftToPeople = snapshot.changedByOthers
        if snapshot.deleted {
            findings.warnings.append(
                "the latest version (\(snapshot.version)) of \(setup.secret) had been deleted: read as no override, written over with "
                    + "check-and-set on that version")
        }
        if let unknown = unknown(setup.provider) { return .finish(.refused(unknown)) }
        guard uses(setup.provider, planner) else {
            return .finish(
                .nothingToDo(
                    setup.kind == .failover
                        ? "no feature of \(setup.target) uses a model of \(setup.provider): nothing to fail over"
                        : "the agent has not failed \(setup.provider) over on \(setup.target)"))
        }
        return .readiness
    }

    /// Ready means able: every check this action needs passes, or nothing is written. A failover
    /// then chooses only what the deployed image serves (a restore puts back what was there).
    private mutating func ready(_ problems: [String]) -> Request {
        if setup.apply, !problems.isEmpty {
            return .finish(.refused("not ready: " + problems.joined(separator: "; ") + "; nothing written"))
        }
        return setup.kind == .failover ? .deployedCatalog : decide()
    }

    /// A provider the catalog does not know (a typo) is refused before anything is written:
    /// `subject` must be a provider some model is on, or `provider/model` for a model of the
    /// catalog on that provider (or something the agent already owns).
    private func unknown(_ subject: String) -> String? {
        guard !snapshot.ownership.providers.contains(subject) else { return nil }
        let catalog = setup.planner.catalog
        let provider = Subject.provider(subject)
        if let model = Subject.model(subject) {
            return catalog[model]?.provider == provider
                ? nil : "unknown model '\(subject)': the catalog has no model \(model) on \(provider)"
        }
        guard catalog.providers.contains(provider) else {
            return
                "unknown provider '\(provider)': no model of the catalog is on it (providers: \(catalog.providers.joined(separator: ", ")))"
        }
        return nil
    }

    /// The action has something to act on: a failover, a feature using the provider (a provider
    /// no feature uses is not recorded as failed over: nothing would undo it); a restore, the
    /// provider failed over by the agent.
    private func uses(_ provider: String, _ planner: Planner) -> Bool {
        let owned = snapshot.ownership.providers.contains(provider)
        return setup.kind == .restore ? owned : owned || !planner.plan(current: snapshot.current, failing: [provider]).isEmpty
    }

    /// The plan from the secret as it is; a restore that finds the secret untouched since the
    /// agent's write and nothing left failed over puts back the very version it replaced.
    private mutating func plan() -> Decision? {
        let owned = snapshot.ownership
        guard uses(setup.provider, planner) else { return nil }
        let base = owned.base(excluding: snapshot.changedByOthers)
        switch setup.kind {
        case .failover:
            let providers = Array(Set(owned.providers + [setup.provider])).sorted()
            return Decision(
                plan: planner.plan(current: snapshot.current, failing: Set(providers), base: base, avoid: avoid), providers: providers)
        case .restore:
            let remaining = owned.providers.filter { $0 != setup.provider }
            let plan = planner.plan(current: snapshot.current, failing: Set(remaining), base: base)
            let untouched = remaining.isEmpty && snapshot.changedByOthers.isEmpty && owned.writtenVersion == snapshot.version
            return Decision(plan: plan, providers: remaining, putBack: untouched ? owned.baseVersion : nil)
        }
    }

    private mutating func decide() -> Request {
        guard let decision = plan() else {
            return .finish(.nothingToDo("no feature of \(setup.target) uses a model of \(setup.provider): nothing to fail over"))
        }
        self.decision = decision
        // Version 0 (the secret did not exist): nothing to read back.
        if let version = decision.putBack, version > 0 { return .readReplaced(version: version) }
        return preflight()
    }

    /// Pre-flight where a write could follow: before a write (unless a person approved this very
    /// plan, pre-flighted at the approval), and when planning a proposal. Every model the plan
    /// brings in where a feature did not use it before gets a fresh probe.
    private mutating func preflight() -> Request {
        guard setup.kind == .failover, setup.canProbe, setup.apply ? setup.pinned == nil : setup.preflightWhenPlanning,
            let decision
        else { return validate() }
        let brought = Set(decision.plan.changes.flatMap { change in (change.after ?? []).filter { !change.effectiveBefore.contains($0) } })
            .subtracting(preflighted).sorted()
        guard !brought.isEmpty else { return safe() }
        preflighted.formUnion(brought)
        return .preflight(brought)
    }

    /// A failing replacement is avoided and the plan made again, until every replacement passes
    /// (or the feature is left alone, and said so). `auth` and `bad_request` are the probe's
    /// fault and say nothing about the model.
    private mutating func probed(_ models: [String], _ classes: [String: String]) -> Request {
        var failing: [String] = []
        for model in models {
            guard let resultClass = classes[model] else { continue }
            findings.preflight.append((model, resultClass))
            let known = ProbeClass(rawValue: resultClass)
            if known != .ok && known != .slow && known?.isOurFault != true { failing.append(model) }
        }
        guard !failing.isEmpty else { return safe() }
        for model in failing {
            if let provider = planner.catalog[model]?.provider { avoid.insert(Subject.key(provider: provider, model: model)) }
        }
        guard let again = plan() else { return safe() }
        decision = again
        return preflight()
    }

    /// After the pre-flight: a failover whose every replacement failed writes nothing.
    private mutating func safe() -> Request {
        guard let decision, decision.plan.isEmpty, !snapshot.ownership.providers.contains(setup.provider) else { return validate() }
        findings.plan = decision.plan
        return .finish(
            .refused(
                "no safe plan: every replacement failed its pre-flight probe ("
                    + findings.preflight.map { "\($0.model) \($0.resultClass)" }.joined(separator: ", ") + "); nothing written"))
    }

    private mutating func validate() -> Request {
        guard let decision else { return .finish(.failed("the plan step validated no plan")) }
        let plan = decision.plan
        findings.plan = plan
        let problems = planner.validate(plan.override, changed: Set(plan.changes.map(\.feature)))
        guard problems.isEmpty else {
            return .finish(.refused("the new override would fail the gateway's validation: " + problems.joined(separator: "; ")))
        }
        let owned = snapshot.ownership
        let next = owned.applying(plan, providers: decision.providers, lettingGo: snapshot.changedByOthers)
        guard !plan.isEmpty || decision.putBack != nil || next != owned.settled else {
            return .finish(.nothingToDo("no feature of \(setup.target) uses a model of the failing providers"))
        }
        if plan.isEmpty && decision.putBack == nil {
            // People changed every key the agent still owned: let go of them, write and redeploy nothing.
            return setup.apply ? .letGo(next) : .finish(.nothingToDo(lettingGo))
        }
        if setup.kind == .failover || setup.restoreRedeploys { return .deployFacts }
        return setup.apply && setup.verifies ? .markDeployments : checkPinned()
    }

    private var lettingGo: String {
        "every key the agent changed was changed since by a person (\(snapshot.changedByOthers.joined(separator: ", "))): left as it is"
    }

    /// An approved plan is carried out only if it is still the one approved: the same value,
    /// planned from the same version, deploying the same SHA.
    private mutating func checkPinned() -> Request {
        guard let decision else { return .finish(.failed("the plan step checked no plan")) }
        let plan = decision.plan
        findings.secretVersion = snapshot.version
        findings.deploySHA = carrier?.sha
        let intended = decision.putBack != nil ? replacedValue ?? "" : plan.override.json
        findings.intended = intended
        if let pinned = setup.pinned, pinned != PinnedPlan(intended: intended, secretVersion: snapshot.version, sha: carrier?.sha) {
            return .finish(
                .refused(
                    "the plan is no longer what was approved (planned from version \(pinned.secretVersion) at "
                        + "\(pinned.sha.map { String($0.prefix(12)) } ?? "no redeploy"), now version \(snapshot.version) at "
                        + "\(carrier.map { String($0.sha.prefix(12)) } ?? "no redeploy")"
                        + "\(pinned.intended == intended ? "" : ", another override")): nothing written"))
        }
        guard setup.apply else { return .finish(.done) }
        var next = snapshot.ownership.applying(plan, providers: decision.providers, lettingGo: snapshot.changedByOthers)
        next.baseVersion = next.isEmpty ? nil : snapshot.ownership.baseVersion ?? snapshot.version
        let checks = ActionMachine.Checks(
            secretVersion: snapshot.version, carrier: carrier, startedBeforeWrite: started, intended: intended)
        let checked = Checked(
            write: decision.putBack.map { .putBack(version: $0) } ?? .override(plan.override), intended: intended, next: next,
            checks: checks, expect: expected(plan))
        self.checked = checked
        return .journal(checked)
    }

    /// What the gateway should serve for each feature the plan changes: the new list, or the
    /// catalog's defaults where the key is removed.
    private func expected(_ plan: Plan) -> [String: [String]] {
        var expect: [String: [String]] = [:]
        for change in plan.changes {
            expect[change.feature] = change.after ?? setup.planner.features.first { $0.setting == change.feature }?.defaultModels
        }
        return expect
    }
}
