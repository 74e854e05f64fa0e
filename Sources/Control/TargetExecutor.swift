import Selection

/// One service × environment whose override the agent manages.
public struct Target: Sendable {
    public enum Mode: String, Sendable { case propose, perform }
    public var name: String
    public var mode: Mode
    public var vault: VaultSettings
    public var gitlab: GitLabSettings

    public init(name: String, mode: Mode, vault: VaultSettings, gitlab: GitLabSettings) {
        self.name = name
        self.mode = mode
        self.vault = vault
        self.gitlab = gitlab
    }
}

/// Carries out the runbook for one target: plan from the secret as read, check the redeploy can
/// happen, write the secret with check-and-set (re-reading and re-planning on a conflict), record
/// what the agent owns in the secret's metadata, and retry the latest pipeline's deploy job.
public struct TargetExecutor: Sendable {
    public let target: Target
    public let planner: Planner
    public let vault: VaultKV
    public let redeployer: Redeployer
    public let log: @Sendable (String) -> Void
    /// Called with each step before the next; a throw stops the action there.
    public var onStep: @Sendable (ExecutionStep) async throws -> Void
    /// Asked before every write to Vault (the ownership record, the secret); false (the Lease was
    /// lost) stops the action there.
    public var mayAct: @Sendable () -> Bool = { true }
    /// True once the agent is shutting down: following a deploy job stops (what is owed stays recorded).
    public var stopping: @Sendable () -> Bool = { false }
    /// Read–plan–write rounds before giving up on concurrent edits.
    public var casAttempts = 3

    public init(
        target: Target, planner: Planner, vault: VaultKV, redeployer: Redeployer, log: @escaping @Sendable (String) -> Void,
        onStep: @escaping @Sendable (ExecutionStep) async throws -> Void = { _ in }
    ) {
        self.target = target
        self.planner = planner
        self.vault = vault
        self.redeployer = redeployer
        self.log = log
        self.onStep = onStep
    }

    struct Snapshot {
        var secret: VaultSecret
        var current: ModelOverride
        /// As the metadata says.
        var recorded: Ownership
        /// As it stands: a pending write resolved as happened (its redeploy still pending) or not (nothing pending).
        var ownership: Ownership
        var changedByOthers: [String]
    }

    func snapshot() async throws(ControlError) -> Snapshot {
        let secret = try await vault.read()
        let current: ModelOverride
        do { current = try ModelOverride.parse(secret.value ?? "") } catch {
            throw .refused("\(target.vault.mount)/\(target.vault.path) key \(target.vault.key) is not valid override JSON (\(error)); the agent will not write over it")
        }
        let recorded = try await recordedOwnership()
        var ownership = recorded
        if let write = recorded.pending?.write {
            ownership = try await wrote(recorded, over: write.casVersion, now: secret.version) ? recorded.written(as: write.casVersion + 1) : recorded.settled
        }
        return Snapshot(secret: secret, current: current, recorded: recorded, ownership: ownership, changedByOthers: ownership.keysChangedByOthers(in: current))
    }

    /// The plan for these failing providers, from the secret as it is; touches nothing.
    public func plan(failing: Set<String>) async throws(ControlError) -> Plan {
        let snap = try await snapshot()
        return planner.plan(current: snap.current, failing: failing.union(snap.ownership.providers), base: snap.ownership.base(excluding: snap.changedByOthers))
    }

    public func failover(provider: String, apply: Bool) async -> ActionReport {
        let nothing = "no feature of \(target.name) uses a model of \(provider): nothing to fail over"
        return await run("failover", of: provider, apply: apply, nothing: nothing) { snap throws(ControlError) in
            try checkKnown(provider, owned: snap.ownership.providers)
            let providers = Array(Set(snap.ownership.providers + [provider])).sorted()
            let plan = planner.plan(current: snap.current, failing: Set(providers), base: snap.ownership.base(excluding: snap.changedByOthers))
            // A provider no feature uses is not recorded as failed over: nothing would undo it.
            if !snap.ownership.providers.contains(provider), planner.plan(current: snap.current, failing: [provider]).isEmpty { return nil }
            return (plan, providers, nil)
        }
    }

    public func restore(provider: String, apply: Bool) async -> ActionReport {
        let nothing = "the agent has not failed \(provider) over on \(target.name)"
        return await run("restore", of: provider, apply: apply, nothing: nothing) { snap throws(ControlError) in
            try checkKnown(provider, owned: snap.ownership.providers)
            guard snap.ownership.providers.contains(provider) else { return nil }
            let remaining = snap.ownership.providers.filter { $0 != provider }
            let plan = planner.plan(current: snap.current, failing: Set(remaining), base: snap.ownership.base(excluding: snap.changedByOthers))
            // Untouched since the agent's write and nothing left failed over: put back the very version it replaced.
            if remaining.isEmpty, snap.changedByOthers.isEmpty, let base = snap.ownership.baseVersion, snap.ownership.writtenVersion == snap.secret.version {
                // Version 0: the secret did not exist; keep whatever else it holds now, without the agent's key.
                let original = base == 0 ? snap.secret.data.filter { $0.key != target.vault.key } : try await vault.read(version: base).data
                return (plan, remaining, original)
            }
            return (plan, remaining, nil)
        }
    }

    /// A provider the catalog does not know (a typo) is refused before anything is written.
    private func checkKnown(_ provider: String, owned: [String]) throws(ControlError) {
        let known = planner.catalog.providers
        guard known.contains(provider) || owned.contains(provider) else {
            throw .refused("unknown provider '\(provider)': no model of the catalog is on it (providers: \(known.joined(separator: ", ")))")
        }
    }

    /// The shared read → plan → check → write → redeploy path. `decide` returns the plan, the
    /// providers failed over afterwards, and optionally the exact data to write; nil: `nothing` to do.
    private func run(
        _ action: String, of provider: String, apply: Bool, nothing: String,
        decide: (Snapshot) async throws(ControlError) -> (plan: Plan, providers: [String], exactData: [String: JSONValue]?)?
    ) async -> ActionReport {
        var report = ActionReport(target: target.name, outcome: .nothingToDo(""))
        if apply, (try? await recordedPending()) != nil, let earlier = await settlePending() {
            log("first settled an earlier action: \(earlier.outcome.summary)")
            if case .failed(let why) = earlier.outcome {
                report.outcome = .failed("an earlier action recorded in the secret's metadata could not be settled first: \(why)")
                return report
            }
        }
        do {
            for attempt in 1...casAttempts {
                let snap = try await snapshot()
                report.leftToPeople = snap.changedByOthers
                guard let (plan, providers, exactData) = try await decide(snap) else {
                    report.outcome = .nothingToDo(nothing)
                    return report
                }
                report.plan = plan
                let problems = planner.validate(plan.override)
                guard problems.isEmpty else {
                    report.outcome = .refused("the new override would fail the gateway's validation: " + problems.joined(separator: "; "))
                    return report
                }
                let ownership = snap.ownership.applying(plan, providers: providers, lettingGo: snap.changedByOthers)
                guard !plan.isEmpty || exactData != nil || ownership != snap.ownership.settled else {
                    report.outcome = .nothingToDo("no feature of \(target.name) uses a model of the failing providers")
                    return report
                }
                if plan.isEmpty && exactData == nil {
                    // People changed every key the agent still owned: let go of them, write and redeploy nothing.
                    if apply { try await record(ownership) }
                    report.outcome = .nothingToDo("every key the agent changed was changed since by a person (\(snap.changedByOthers.joined(separator: ", "))): left as it is")
                    return report
                }
                let deploy = try await redeployer.preflight()
                report.secretVersion = snap.secret.version
                report.deploySHA = deploy.pipeline.sha
                guard apply else {
                    report.outcome = .planned
                    return report
                }
                var data = exactData ?? snap.secret.data
                if exactData == nil { data[target.vault.key] = .string(plan.override.json) }
                try await step(.checked(secretVersion: snap.secret.version, intended: data[target.vault.key]?.string ?? "", pipeline: deploy.pipeline.id, sha: deploy.pipeline.sha, job: deploy.job.id, jobName: deploy.job.name))
                var next = ownership
                next.baseVersion = ownership.isEmpty ? nil : snap.ownership.baseVersion ?? snap.secret.version
                let pending = PendingAction(action: action, provider: provider, pipeline: deploy.pipeline.id, job: deploy.job.id, jobName: deploy.job.name, write: nil)
                let ahead = snap.ownership.aboutToWrite(next, over: snap.secret.version, pending: pending)
                try await record(ahead)  // write-ahead
                var version = snap.secret.version + 1
                do { version = try await write(data, cas: snap.secret.version) } catch .casMismatch {
                    // A retried write whose first try landed unanswered meets its own version: that is not a conflict.
                    if try await !wrote(ahead, over: snap.secret.version, now: vault.read().version) {
                        log("the secret changed since it was read (attempt \(attempt) of \(casAttempts)): re-reading and re-planning")
                        try await record(snap.ownership.settled)
                        continue
                    }
                    log("the write over version \(snap.secret.version) had landed although its answer was lost")
                }
                let recorded = ahead.written(as: version)
                try await record(recorded)
                log("wrote \(target.vault.mount)/\(target.vault.path) version \(version) (check-and-set on version \(snap.secret.version))")
                try await step(.secretWritten(version: version))
                let job: Job
                do {
                    job = try await redeployer.redeploy(pipeline: deploy.pipeline, job: deploy.job, log: log, stopping: stopping) { original, retried throws(ControlError) in
                        try await step(.jobRetried(original: original, retried: retried))
                    }
                } catch .refused(let why) {
                    try await rollBack(to: snap, over: version)
                    // Put back as it was: with nothing failed over before, the expedited strategy goes too.
                    if snap.ownership.providers.isEmpty { try await redeployer.clearExpedited(log: log) }
                    report.outcome = .refused(why + "; the secret was put back")
                    return report
                }
                if recorded.providers.isEmpty { try await redeployer.clearExpedited(log: log) }
                try await record(recorded.settled)
                report.outcome = .deployed(jobStatus: job.status)
                return report
            }
            report.outcome = .refused("the secret kept changing under the agent (\(casAttempts) check-and-set conflicts); nothing was written")
        } catch .refused(let why) {
            report.outcome = .refused(why)
        } catch .interrupted(let why) {
            report.outcome = .interrupted(why)
        } catch {
            report.outcome = .failed(error.description)
        }
        return report
    }

    /// The providers this target's ownership record says the agent has failed over.
    public func failedOverProviders() async throws(ControlError) -> [String] { try await snapshot().ownership.providers }

    /// The secret's version and the configured key's value now.
    public func current() async throws(ControlError) -> (version: Int, value: String?) {
        let secret = try await vault.read()
        return (secret.version, secret.value)
    }

    func isBridge(_ job: Int, pipeline: Int) async throws(ControlError) -> Bool {
        try await redeployer.gitlab.jobs(pipeline: pipeline).first { $0.id == job }?.isBridge ?? false
    }

    /// Writes the ownership record to the secret's metadata, while this replica may act.
    func record(_ ownership: Ownership) async throws(ControlError) {
        guard mayAct() else { throw .unavailable("this replica lost the Lease: the ownership record is left to the next leader") }
        try await vault.replaceCustomMetadata(prefix: Ownership.metadataPrefix, with: ownership.metadata)
    }

    /// Writes the secret with check-and-set, while this replica may act.
    func write(_ data: [String: JSONValue], cas: Int) async throws(ControlError) -> Int {
        guard mayAct() else { throw .unavailable("this replica lost the Lease: the secret write is left to the next leader") }
        return try await vault.write(data, cas: cas)
    }

    func step(_ step: ExecutionStep) async throws(ControlError) {
        do { try await onStep(step) } catch { throw .unavailable("cannot journal step \(step): \(error)") }
    }

    /// Undoes the agent's write when the redeploy cannot happen, unless someone wrote since.
    private func rollBack(to snap: Snapshot, over version: Int) async throws(ControlError) {
        _ = try await write(snap.secret.data, cas: version)
        try await record(snap.ownership.settled)
        log("put the secret back as it was (check-and-set on version \(version))")
    }
}
