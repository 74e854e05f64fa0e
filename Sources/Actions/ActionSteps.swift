import ControlAPI
import GatewayClient
import GitLabClient
import Lifecycle
import Logging
import ProbeResults
import Selection
import Timekeeping
import VaultClient

/// The steps of an action, each one side effect (or one look) against Vault, GitLab or the
/// gateway, journaled once done. The order is ``ActionMachine``'s (ActionDriver.swift).
extension TargetExecutor {
    /// One request of the plan step (``PlanMachine``): one read, check or probe; reads the secret,
    /// plans, validates and checks the redeploy can happen, touching nothing (but letting go of
    /// keys people took over); once checked, journals what it found for the write that follows.
    func carryOut(_ request: PlanMachine.Request, _ state: inout ActionState) async throws(ControlError) -> Reply<PlanMachine.Answer> {
        switch request {
        case .read:
            let read = try await snapshot()
            (state.read, state.replaced) = (read, nil)
            return .answer(.read(read.facts))
        case .readiness:
            let unready = await unready(for: state.kind, now: redeployer.clock.unixTime)
            state.report.unready = unready
            return .answer(.unready(unready.map { "\($0.name.rawValue): \($0.reason)" }))
        case .deployedCatalog: return .answer(.deployedCatalog(try await deployedCatalog()))
        case .preflight(let models):
            let classes = await preflight?(models) ?? [:]
            logger.notice("pre-flight of the replacements: \(models.map { "\($0) \(classes[$0] ?? "no probe")" }.joined(separator: ", "))")
            return .answer(.probed(classes))
        case .readReplaced(let version):
            let read = try await vault.read(version: version)
            state.replaced = read.deleted ? nil : read.data
            return .answer(.replaced(value: state.replaced?[target.vault.key]?.string))
        case .letGo(let next):
            try await record(next)
            return .answer(.recorded)
        case .deployFacts: return .answer(.deployFacts(try await redeployer.gitlab.deployFacts()))
        case .markDeployments:
            state.deployMarker = try await redeployer.gitlab.deployMarker()
            return .answer(.marked)
        case .journal(let found):
            guard let snap = state.read else { return .result(.failed("checks journaled without the secret read")) }
            try await journal(found, snap: snap, &state)
            return .answer(.journaled)
        case .finish(let result): return .result(result)
        }
    }

    /// Journals what the checks found and keeps the data to write.
    private func journal(_ found: PlanMachine.Checked, snap: Snapshot, _ state: inout ActionState) async throws(ControlError) {
        var data: [String: JSONValue]
        switch found.write {
        case .override(let override):
            data = snap.secret.data
            data[target.vault.key] = .string(override.json)
        case .putBack:
            data = state.replaced ?? snap.secret.data.filter { $0.key != target.vault.key }
        }
        let carrier = found.checks.carrier
        let checked = CheckedStep(
            secretVersion: found.checks.secretVersion, intended: found.intended, pipeline: carrier?.pipeline, sha: carrier?.sha,
            job: carrier?.trigger?.job, jobName: carrier?.trigger?.name, expect: found.expect,
            changeRequest: state.kind == .restore ? snap.ownership.changeRequests[state.provider] : state.changeRequest,
            action: state.actionID, started: found.checks.startedBeforeWrite.map { $0.sorted() })
        try await step(.checked(checked))
        state.checked = checked
        if state.kind == .restore { state.changeRequest = checked.changeRequest }
        state.prepared = Prepared(snap: snap, next: found.next, data: data)
    }

    /// Goes on in the incident's change request (``ChangeRequestMachine``), recorded in the
    /// secret's metadata so whoever restores closes it.
    func openChangeRequest(_ state: inout ActionState) async throws(ControlError) -> ActionMachine.Result {
        guard let settings = target.changeRequest, state.checked != nil else { return .done }
        return try await run(.opening(project: settings.project, group: state.terms.sharedChangeRequest), &state)
    }

    /// One request of the check-and-set write (``SecretWrite``): the write-ahead record, the
    /// write, the read that settles a conflict or a lost answer; then what it came to.
    func carryOut(_ request: SecretWrite.Request, _ state: inout ActionState) async throws(ControlError) -> Reply<SecretWrite.Answer> {
        guard let prepared = state.prepared, let checked = state.checked else { return .result(.failed("a write without its plan")) }
        switch request {
        case .recordAhead(let over):
            var before = prepared.snap.ownership
            if state.kind == .failover, let iid = state.changeRequest { before.changeRequests[state.provider] = iid }
            let pending = PendingAction(
                action: state.kind.rawValue, provider: state.provider, pipeline: checked.pipeline ?? 0, job: checked.job ?? 0,
                jobName: checked.jobName ?? "", write: nil, id: state.actionID)
            let ahead = before.aboutToWrite(prepared.next, over: over, pending: pending)
            try await record(ahead)
            state.records = (before, ahead)
            return .answer(.recorded)
        case .send(let over):
            do { return .answer(.written(version: try await write(prepared.data, cas: over))) } catch .casMismatch {
                return .answer(.conflict)
            } catch .unavailable(let why) { return .answer(.lost(why)) }
        case .readBack(let over):
            guard let ahead = state.records?.ahead else { return .result(.failed("a write without its write-ahead record")) }
            return .answer(.readBack(ours: try await wrote(ahead, over: over, now: vault.read().version)))
        case .conflict:
            logger.warning("the secret changed since it was read: re-reading and re-planning")
            if let before = state.records?.before { try await record(before.settled) }
            return .result(.conflict)
        case .unknown(let why):
            throw .unavailable(why)  // the write-ahead record stays pending for a later settlement
        case .landed(let version, let lost):
            let secret = "\(target.vault.mount)/\(target.vault.path)"
            let over = prepared.snap.secret.version
            if let lost {
                logger.notice("the write over version \(over) had landed although its answer was lost")
                await settled(
                    Settlement(
                        request: "check-and-set write of \(secret) over version \(over)", lost: lost,
                        found: "carried out: version \(version)"))
            }
            guard let ahead = state.records?.ahead else { return .result(.failed("a write without its write-ahead record")) }
            try await record(ahead.written(as: version))
            logger.notice("wrote \(secret) version \(version) (check-and-set on version \(over))")
            state.prepared?.written = version
            try await afterWrite(state)
            try await step(.secretWritten(version: version))
            await noteChangeRequest(state, "The secret \(secret) was written: version \(version).")
            return .result(.done)
        }
    }

    /// A restore that leaves the deploy to the next deployment owes nothing once written: its
    /// record is settled and the expedited strategy goes when nothing is failed over any more.
    private func afterWrite(_ state: ActionState) async throws(ControlError) {
        guard state.kind == .restore, !target.restoreRedeploy, !state.terms.drill else { return }
        let snap = try await snapshot()
        if snap.recorded.pending != nil { try await record(snap.ownership.settled) }
        if snap.ownership.providers.isEmpty { try await redeployer.clearExpedited(logger: logger) }
    }

    /// Owns the write an earlier run made before a restart (it landed as `version`) as written.
    func adoptWrite(_ version: Int, _ state: ActionState) async -> ActionMachine.Result {
        do throws(ControlError) {
            try await afterWrite(state)
            try await step(.secretWritten(version: version))
            return .done
        } catch { return Self.result(of: error) }
    }

    /// Polls the gateway until it serves the planned defaults, or the verify timeout.
    func verifyStep(_ state: inout ActionState) async throws(ControlError) -> ActionMachine.Result {
        guard let gateway, let checked = state.checked else { return .done }
        if let problem = await gateway.verify(checked.expect, stopping: stopping) {
            await noteChangeRequest(state, "Not verified: \(problem).")
            return .notVerified(problem)
        }
        let what =
            "\(gateway.settings.label) serve\(gateway.settings.urls.count == 1 ? "s" : "") the planned defaults of \(checked.expect.keys.sorted().joined(separator: ", "))"
        logger.notice("verified live: \(what)")
        try await step(.verified(what))
        await noteChangeRequest(state, "Verified live: \(what).")
        return .done
    }

    /// Closes the change request of the failover this restore undid, and forgets it.
    func closeChangeRequest(_ state: inout ActionState) async throws(ControlError) -> ActionMachine.Result {
        guard let settings = target.changeRequest, let iid = state.changeRequest else { return .done }
        return try await run(.closing(project: settings.project, iid: iid, last: state.terms.closesChangeRequest), &state)
    }

    /// A comment on the action's change request; one that cannot be written is logged, never blocking.
    func noteChangeRequest(_ state: ActionState, _ text: String) async {
        guard let settings = target.changeRequest, let iid = state.changeRequest else { return }
        do {
            try await redeployer.gitlab.note(settings, issue: iid, text, action: state.actionID, resumed: state.resumed, settled: settled)
        } catch {
            logger.warning("cannot comment on change request \(settings.project)#\(iid): \(error)")
        }
    }
}

extension TargetExecutor {
    /// One check of the deployment after `awaited.since`: one read of GitLab and, once it is out,
    /// the gateway polled until it serves `awaited.expect` (or its `verify_timeout`); past
    /// `awaited.deadline` with no deployment, not verified. A final answer is noted on the change
    /// request. `stop` ends the gateway's polling.
    public func checkNextDeployment(_ awaited: AwaitedDeployment, stop: @escaping @Sendable () -> Bool = { false }) async
        -> NextDeploymentCheck
    {
        guard let gateway else { return .verified }
        guard (try? await redeployer.gitlab.deployedSince(awaited.since)) == true else {
            let check = awaited.undeployed(
                at: redeployer.clock.elapsed, poll: target.gitlab.pollInterval / .seconds(1),
                timeout: gateway.settings.nextDeploymentTimeout)
            if case .notVerified(let problem) = check { await noteChangeRequest(awaited, problem + ".") }
            return check
        }
        let problem = await gateway.verify(awaited.expect, stopping: stop)
        await noteChangeRequest(
            awaited,
            problem.map { "The next deployment does not serve the restore: \($0)." }
                ?? "The next deployment serves the restore: verified live.")
        return problem.map { .notVerified($0) } ?? .verified
    }

    private func noteChangeRequest(_ awaited: AwaitedDeployment, _ text: String) async {
        guard let settings = target.changeRequest, let iid = awaited.changeRequest else { return }
        try? await redeployer.gitlab.note(settings, issue: iid, text, action: "next-deployment-\(awaited.since)", settled: settled)
    }
}
