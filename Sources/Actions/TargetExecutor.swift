import ControlAPI
import GatewayClient
import GitLabClient
import HTTP
import Lifecycle
import Logging
import ProbeResults
import Selection
import Timekeeping
import VaultClient

/// One service × environment whose override the agent manages.
public struct Target: Sendable {
    public var name: String
    public var mode: ActionMode
    public var vault: VaultSettings
    public var gitlab: GitLabSettings
    /// A GitLab issue per failover, noted at each step, closed by the restore.
    public var changeRequest: ChangeRequestSettings?
    /// The gateway asked whether it serves the change; nil: actions end unverified.
    public var gateway: GatewaySettings?
    /// Restores redeploy at once (true), or leave it to the next deployment, as the runbook does (false).
    public var restoreRedeploy: Bool
    /// Targets of one group (the AI Gateway and the Duo Workflow Service of one environment) are
    /// one incident: one proposal, one change request, failed over and restored together.
    public var group: String?
    /// Fire drills of this target (`targets[].drill`); nil: it cannot be drilled.
    public var drill: DrillSettings?

    public init(
        name: String, mode: ActionMode, vault: VaultSettings, gitlab: GitLabSettings, changeRequest: ChangeRequestSettings? = nil,
        gateway: GatewaySettings? = nil, restoreRedeploy: Bool = false, group: String? = nil, drill: DrillSettings? = nil
    ) {
        self.drill = drill
        self.name = name
        self.mode = mode
        self.vault = vault
        self.gitlab = gitlab
        self.changeRequest = changeRequest
        self.gateway = gateway
        self.restoreRedeploy = restoreRedeploy
        self.group = group
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
    /// Asked whether the gateway serves the change (`target.gateway`).
    public let gateway: Gateway?
    /// Carries `target` (and, during an action, `action`, `provider` and `intent`) as metadata.
    public var logger: Logger
    /// Called with each step before the next; a throw stops the action there.
    public var onStep: @Sendable (ExecutionStep) async throws -> Void
    /// Asked before every write to Vault (the ownership record, the secret); false (the Lease was
    /// lost) stops the action there.
    public var mayAct: @Sendable () -> Bool = { true }
    /// True once the agent is shutting down: following a deploy job stops (what is owed stays recorded).
    public var stopping: @Sendable () -> Bool = { false }
    /// Read–plan–write rounds before giving up on concurrent edits.
    public var casAttempts = 3
    /// Probes these replacement models now, right before a failover's write; returns each
    /// model's probe class (`ok`, `slow`, or a failure). A model without a probe is left out.
    /// nil: no pre-flight.
    public var preflight: (@Sendable (_ models: [String]) async -> [String: String])?
    /// Reads a deployed image's catalog from its `models.yml` and `unit_primitives.yml` (text, and
    /// where they were read), for a target without a gateway URL; nil: such a target's plans are
    /// checked against the agent's files only.
    public var catalogParser: (@Sendable (_ models: String, _ unitPrimitives: String, _ source: String) throws -> DeployedCatalog)?

    public init(
        target: Target, planner: Planner, vault: VaultKV, redeployer: Redeployer, gateway: Gateway? = nil,
        logger: Logger,
        onStep: @escaping @Sendable (ExecutionStep) async throws -> Void = { _ in }
    ) {
        self.target = target
        self.planner = planner
        self.vault = vault
        self.redeployer = redeployer
        self.gateway = gateway
        self.logger = logger
        self.logger[metadataKey: "target"] = .string(target.name)
        self.onStep = onStep
    }

    /// The executor of `target` over `client`: its Vault, GitLab and gateway, credentials from
    /// `environment`; following deploys and polling the gateway wait on `clock`.
    public init(
        target: Target, planner: Planner, client: HTTPClient, environment: [String: String], logger: Logger,
        clock: any AgentClock
    ) throws(ControlError) {
        self.init(
            target: target, planner: planner,
            vault: try VaultKV(settings: target.vault, client: client, environment: environment, clock: clock),
            redeployer: Redeployer(
                gitlab: try GitLab(settings: target.gitlab, client: client, environment: environment, clock: clock), holder: target.name,
                clock: clock),
            gateway: try target.gateway.map { settings throws(ControlError) in
                try Gateway(settings: settings, client: client, environment: environment, clock: clock)
            }, logger: logger)
    }

    /// The lifecycle's options from the target's configuration.
    public var options: ActionMachine.Options {
        .init(
            changeRequest: target.changeRequest != nil, verify: gateway != nil, restoreRedeploy: target.restoreRedeploy,
            casAttempts: casAttempts)
    }

    /// The secret as read (every key of its data), and what planning sees of it.
    @dynamicMemberLookup
    struct Snapshot {
        var secret: VaultSecret
        var facts: SecretSnapshot

        subscript<Value>(dynamicMember path: KeyPath<SecretSnapshot, Value>) -> Value { facts[keyPath: path] }
    }

    func snapshot() async throws(ControlError) -> Snapshot {
        let secret = try await vault.read()
        let current: ModelOverride
        do { current = try ModelOverride.parse(secret.value ?? "") } catch {
            throw .refused(
                "\(target.vault.mount)/\(target.vault.path) key \(target.vault.key) is not valid override JSON (\(error)); the agent "
                    + "will not write over it"
            )
        }
        let recorded = try await recordedOwnership()
        var ownership = recorded
        if let write = recorded.pending?.write {
            ownership =
                try await wrote(recorded, over: write.casVersion, now: secret.version)
                ? recorded.written(as: write.casVersion + 1) : recorded.settled
        }
        return Snapshot(
            secret: secret,
            facts: SecretSnapshot(
                version: secret.version, deleted: secret.deleted, current: current, recorded: recorded, ownership: ownership))
    }

    /// The plan for these failing providers, from the secret as it is and within the catalog the
    /// deployed gateway serves; touches nothing.
    public func plan(failing: Set<String>) async throws(ControlError) -> Plan {
        let snap = try await snapshot()
        return planner.within(try await deployedCatalog()).plan(
            current: snap.current, failing: failing.union(snap.ownership.providers),
            base: snap.ownership.base(excluding: snap.changedByOthers))
    }

    public func failover(provider: String, apply: Bool, approval: String? = nil) async -> ActionReport {
        await perform(.failover, provider: provider, apply: apply, approval: approval)
    }

    public func restore(provider: String, apply: Bool, approval: String? = nil) async -> ActionReport {
        await perform(.restore, provider: provider, apply: apply, approval: approval)
    }

    /// The catalog the deployed gateway image serves: read from every URL of the target's
    /// gateway, or, without one, from the catalog files at the SHA production runs (through the
    /// repository files API); nil when neither can be asked.
    public func deployedCatalog() async throws(ControlError) -> DeployedCatalog? {
        if let gateway {
            do { return try await gateway.deployedCatalog() } catch {
                throw .unavailable("cannot read the deployed gateway's catalog (/v1/models/definitions): \(error)")
            }
        }
        guard let catalogParser else { return nil }
        let gitlab = redeployer.gitlab
        let facts = try await gitlab.deployFacts()
        guard let sha = facts.production?.sha ?? facts.productionPipeline?.sha else {
            throw .unavailable("what production runs is unknown, so the catalog of the deployed image cannot be read")
        }
        let files = gitlab.settings.catalogFiles
        let source = "\(gitlab.settings.project)@\(sha.prefix(12))"
        do {
            let models = try await gitlab.file(files.models, ref: sha)
            let unitPrimitives = try await gitlab.file(files.unitPrimitives, ref: sha)
            return try catalogParser(models, unitPrimitives, source)
        } catch {
            throw .unavailable("cannot read the deployed catalog from \(files.models) and \(files.unitPrimitives) at \(source): \(error)")
        }
    }

    /// The providers this target's ownership record says the agent has failed over.
    public func failedOverProviders() async throws(ControlError) -> [String] { try await snapshot().ownership.providers }

    /// The secret's version and the configured key's value now.
    public func current() async throws(ControlError) -> (version: Int, value: String?) {
        let secret = try await vault.read()
        return (secret.version, secret.value)
    }

    func isBridge(_ job: Int, pipeline: Int) async throws(ControlError) -> Bool {
        try await redeployer.gitlab.jobs(pipeline: pipeline, includeRetried: true).first { $0.id == job }?.isBridge ?? false
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

    /// A request whose answer was lost, settled by reading: logged and journaled.
    @Sendable func settled(_ settlement: Settlement) async {
        logger.warning("\(settlement)")
        try? await onStep(.settled(settlement))
    }

    func step(_ step: ExecutionStep) async throws(ControlError) {
        do { try await onStep(step) } catch { throw .unavailable("cannot journal step \(step): \(error)") }
    }

    /// Undoes the agent's write when the redeploy cannot happen, unless someone wrote since.
    func rollBack(to snap: Snapshot, over version: Int) async throws(ControlError) {
        _ = try await write(snap.secret.data, cas: version)
        try await record(snap.ownership.settled)
        logger.notice("put the secret back as it was (check-and-set on version \(version))")
    }
}
