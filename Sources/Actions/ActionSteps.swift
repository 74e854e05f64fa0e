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
    /// Reads the secret, plans, validates and checks the redeploy can happen; touches nothing
    /// (but letting go of keys people took over).
    /// Pre-flight: every model the plan brings in gets a fresh probe; a failing one is avoided and
    /// the plan made again (another replacement, or the feature left alone and said so), until
    /// every replacement passes.
    func preflighted(
        _ decision: Decision, _ state: inout ActionState, snap: Snapshot, probe: @Sendable ([String]) async -> [String: String]
    ) async throws(ControlError) -> Decision {
        var decision = decision
        var checked: Set<String> = []
        while true {
            // A model is brought in where a feature did not use it before.
            let brought = Set(
                decision.plan.changes.flatMap { change in (change.after ?? []).filter { !change.effectiveBefore.contains($0) } }
            )
            .subtracting(checked).sorted()
            guard !brought.isEmpty else { return decision }
            checked.formUnion(brought)
            let classes = await probe(brought)
            var failing: [String] = []
            for model in brought {
                guard let resultClass = classes[model] else { continue }
                state.report.preflight.append((model, resultClass))
                // `auth` and `bad_request` are our probe's fault and say nothing about the model.
                let known = ProbeClass(rawValue: resultClass)
                if known != .ok && known != .slow && known?.isOurFault != true { failing.append(model) }
            }
            let results = brought.map { "\($0) \(classes[$0] ?? "no probe")" }.joined(separator: ", ")
            logger.notice("pre-flight of the replacements: \(results)")
            guard !failing.isEmpty else { return decision }
            for model in failing {
                if let provider = planner.catalog[model]?.provider { state.avoid.insert(Subject.key(provider: provider, model: model)) }
            }
            guard let again = try await decide(state.kind, state.provider, snap, avoid: state.avoid, planner: state.planner) else {
                return decision
            }
            decision = again
        }
    }

    func planStep(_ state: inout ActionState, apply: Bool) async throws(ControlError) -> ActionMachine.Result {
        let snap = try await snapshot()
        state.report.leftToPeople = snap.changedByOthers
        if snap.secret.deleted {
            state.report.warnings.append(
                "the latest version (\(snap.secret.version)) of \(target.vault.mount)/\(target.vault.path) had been deleted: read as no "
                    + "override, written over with check-and-set on that version")
        }
        guard try await decide(state.kind, state.provider, snap, avoid: state.avoid) != nil else {
            return .nothingToDo(
                state.kind == .failover
                    ? "no feature of \(target.name) uses a model of \(state.provider): nothing to fail over"
                    : "the agent has not failed \(state.provider) over on \(target.name)")
        }
        // Ready means able: every check this action needs passes, or nothing is written.
        let unready = await unready(for: state.kind, now: redeployer.clock.unixTime)
        state.report.unready = unready
        if apply, !unready.isEmpty {
            return .refused(
                "not ready: " + unready.map { "\($0.name.rawValue): \($0.reason)" }.joined(separator: "; ") + "; nothing written")
        }
        // A failover chooses only what the deployed image serves (a restore puts back what was there).
        if state.kind == .failover {
            let deployed = try await deployedCatalog()
            if deployed == nil {
                state.report.warnings.append(
                    "no gateway is configured for \(target.name) and no catalog reader: the plan is checked against the agent's catalog "
                        + "files only, not the catalog of the deployed image")
            }
            state.planner = planner.within(deployed)
        }
        guard var decision = try await decide(state.kind, state.provider, snap, avoid: state.avoid, planner: state.planner) else {
            return .nothingToDo("no feature of \(target.name) uses a model of \(state.provider): nothing to fail over")
        }
        // Pre-flight where a write could follow: before a write (unless a person approved this very
        // plan, pre-flighted at the approval), and when planning a proposal.
        let pinned = state.terms.pinned
        if state.kind == .failover, apply ? pinned == nil : state.terms.preflightWhenPlanning, let preflight {
            decision = try await preflighted(decision, &state, snap: snap, probe: preflight)
            if decision.plan.isEmpty, !snap.ownership.providers.contains(state.provider) {
                state.report.plan = decision.plan
                return .refused(
                    "no safe plan: every replacement failed its pre-flight probe ("
                        + state.report.preflight.map { "\($0.model) \($0.resultClass)" }.joined(separator: ", ") + "); nothing written")
            }
        }
        let plan = decision.plan
        state.report.plan = plan
        let problems = (state.planner ?? planner).validate(plan.override, changed: Set(plan.changes.map(\.feature)))
        guard problems.isEmpty else {
            return .refused("the new override would fail the gateway's validation: " + problems.joined(separator: "; "))
        }
        var next = snap.ownership.applying(plan, providers: decision.providers, lettingGo: snap.changedByOthers)
        guard !plan.isEmpty || decision.exactData != nil || next != snap.ownership.settled else {
            return .nothingToDo("no feature of \(target.name) uses a model of the failing providers")
        }
        if plan.isEmpty && decision.exactData == nil {
            // People changed every key the agent still owned: let go of them, write and redeploy nothing.
            if apply { try await record(next) }
            return .nothingToDo(
                "every key the agent changed was changed since by a person (\(snap.changedByOthers.joined(separator: ", "))): left as it is"
            )
        }
        let redeploys = state.kind == .failover || target.restoreRedeploy || state.terms.drill
        let deploy = redeploys ? try await redeployer.preflight() : nil
        state.report.deployDecision = deploy?.decision.reason
        if !redeploys, apply, gateway != nil { state.deployMarker = try await redeployer.gitlab.deployMarker() }
        state.report.secretVersion = snap.secret.version
        state.report.deploySHA = deploy?.pipeline.sha
        var data = decision.exactData ?? snap.secret.data
        if decision.exactData == nil { data[target.vault.key] = .string(plan.override.json) }
        let intended = data[target.vault.key]?.string ?? ""
        state.report.intended = intended
        if let pinned, pinned != PinnedPlan(intended: intended, secretVersion: snap.secret.version, sha: deploy?.pipeline.sha) {
            return .refused(
                "the plan is no longer what was approved (planned from version \(pinned.secretVersion) at "
                    + "\(pinned.sha.map { String($0.prefix(12)) } ?? "no redeploy"), now version \(snap.secret.version) at "
                    + "\(deploy.map { String($0.pipeline.sha.prefix(12)) } ?? "no redeploy")\(pinned.intended == intended ? "" : ", another override")): "
                    + "nothing written")
        }
        guard apply else { return .done }
        next.baseVersion = next.isEmpty ? nil : snap.ownership.baseVersion ?? snap.secret.version
        let checked = CheckedStep(
            secretVersion: snap.secret.version, intended: data[target.vault.key]?.string ?? "", pipeline: deploy?.pipeline.id,
            sha: deploy?.pipeline.sha,
            job: deploy?.job?.id, jobName: deploy?.job?.name, expect: expectedDefaults(plan),
            changeRequest: state.kind == .restore ? snap.ownership.changeRequests[state.provider] : state.changeRequest,
            action: state.actionID, started: deploy.map { $0.started.sorted() })
        try await step(.checked(checked))
        state.checked = checked
        if state.kind == .restore { state.changeRequest = checked.changeRequest }
        state.prepared = Prepared(snap: snap, next: next, data: data)
        return .checked(checked.checks)
    }

    /// What the gateway should serve for each feature the plan changes: the new list, or the
    /// catalog's defaults where the key is removed.
    func expectedDefaults(_ plan: Plan) -> [String: [String]] {
        var expect: [String: [String]] = [:]
        for change in plan.changes {
            expect[change.feature] = change.after ?? planner.features.first { $0.setting == change.feature }?.defaultModels
        }
        return expect
    }

    /// Opens the change request and records it in the secret's metadata, so whoever restores closes it.
    func openChangeRequest(_ state: inout ActionState) async throws(ControlError) -> ActionMachine.Result {
        guard let settings = target.changeRequest, let checked = state.checked else { return .done }
        var owned = try await recordedOwnership()
        switch ChangeRequestChoice(recorded: owned.changeRequests[state.provider], group: state.terms.sharedChangeRequest) {
        case .group(let shared):
            state.changeRequest = shared
            owned.changeRequests[state.provider] = shared
            try await record(owned)
            logger.notice("carrying on in the group's change request \(settings.project)#\(shared)")
            await noteChangeRequest(state, ChangeRequestText.member(state, checked: checked, target: target))
            try await step(.changeRequest(iid: shared))
            return .done
        case .carryOn(let open):
            state.changeRequest = open
            logger.notice("carrying on in change request \(settings.project)#\(open)")
            await noteChangeRequest(
                state, "Carried on by a new attempt: secret version \(checked.secretVersion), pipeline at \(checked.sha ?? "?").")
            try await step(.changeRequest(iid: open))
            return .done
        case .findOrOpen: break
        }
        let iid: Int
        var carried = false
        let incident = PostMarker.incident(target: target.name, provider: state.provider, drill: state.terms.drill)
        do {
            // An earlier attempt (before a restart, or on a replica that lost the Lease) may have
            // opened it and stopped before its write recorded it: the incident's open one is carried on in.
            if let found = try await redeployer.gitlab.findIssue(settings, marker: incident, openOnly: true) {
                (iid, carried) = (found, true)
                logger.notice("carrying on in change request \(settings.project)#\(iid), opened for this incident by an earlier attempt")
            } else {
                iid = try await redeployer.gitlab.openIssue(
                    state.terms.drill ? settings.drill : settings,
                    title: "failover-agent: \(state.terms.drill ? "DRILL: " : "")fail \(state.provider) over on \(target.name)",
                    description: ChangeRequestText.opening(state, checked: checked, target: target) + incident.comment,
                    marker: .issue(action: state.actionID), settled: settled)
                logger.notice("opened change request \(settings.project)#\(iid)")
            }
        } catch { return .failed("cannot open a change request in \(settings.project): \(error)") }
        // Recorded in the secret's metadata by the write-ahead record of the write that follows.
        state.changeRequest = iid
        if carried {
            await noteChangeRequest(
                state, "Carried on by a new attempt: secret version \(checked.secretVersion), pipeline at \(checked.sha ?? "?").")
        }
        try await step(.changeRequest(iid: iid))
        return .done
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

    /// After a restart between the checks and the write: did the write happen?
    func reconcileWrite(_ state: inout ActionState) async throws(ControlError) -> ActionMachine.Result {
        guard let checked = state.checked else { return .writeMissing }
        let now = try await current()
        if (now.value ?? "") == checked.intended {
            try await afterWrite(state)
            try await step(.secretWritten(version: now.version))
            return .writeFound
        }
        if now.version != checked.secretVersion {
            return .writeSuperseded("the secret changed since (version \(checked.secretVersion) → \(now.version)); not carried out")
        }
        return .writeMissing
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
        guard state.terms.closesChangeRequest else {
            // Another member of the group restores after this one and closes it.
            await noteChangeRequest(state, "\(target.name) is restored; the group's last target closes this change request.")
            try await forgetChangeRequest(of: state.provider)
            try await step(.changeRequestClosed(iid: iid))
            return .done
        }
        do {
            let how =
                target.restoreRedeploy || state.terms.drill
                ? "restored and deployed" : "restored in the secret; the next deployment picks it up"
            try await redeployer.gitlab.note(
                settings, issue: iid, "\(state.provider) is healthy again: \(how). Closing.", action: state.actionID,
                resumed: state.resumed, settled: settled)
            try await redeployer.gitlab.closeIssue(settings, issue: iid)
        } catch { return .failed("cannot close change request \(settings.project)#\(iid): \(error)") }
        logger.notice("closed change request \(settings.project)#\(iid)")
        try await forgetChangeRequest(of: state.provider)
        try await step(.changeRequestClosed(iid: iid))
        return .done
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
            guard redeployer.clock.elapsed >= awaited.deadline else {
                return .notYet(checkAgainIn: target.gitlab.pollInterval / .seconds(1))
            }
            let problem =
                "no deployment succeeded within \(gateway.settings.nextDeploymentTimeout) of the restore: the secret holds it, but "
                + "the gateway does not serve it until the next deployment (or a redeploy by hand)"
            await noteChangeRequest(awaited, problem + ".")
            return .notVerified(problem)
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
