import ControlAPI
import GitLabClient
import Lifecycle
import Logging
import Selection

/// The change request's requests, one GitLab or Vault call each; ``ChangeRequestMachine`` decides.
extension TargetExecutor {
    /// Runs `machine` to its end, one request at a time.
    func run(_ machine: ChangeRequestMachine, _ state: inout ActionState) async throws(ControlError) -> ActionMachine.Result {
        guard let settings = target.changeRequest else { return .done }
        let gitlab = redeployer.gitlab
        var machine = machine
        var owned: Ownership?
        while true {
            switch machine.request {
            case .readRecorded:
                let read = try await recordedOwnership()
                owned = read
                machine.answered(.recorded(read.changeRequests[state.provider]))
            case .recordGroup(let shared):
                // Read once: the group's change request goes in the record as read.
                var record: Ownership
                if let owned { record = owned } else { record = try await recordedOwnership() }
                record.changeRequests[state.provider] = shared
                try await self.record(record)
                state.changeRequest = shared
                logger.notice("carrying on in the group's change request \(settings.project)#\(shared)")
                machine.answered(.done)
            case .find:
                do {
                    let found = try await gitlab.findIssue(settings, marker: incident(state), openOnly: true)
                    if let found {
                        logger.notice(
                            "carrying on in change request \(settings.project)#\(found), opened for this incident by an earlier attempt")
                    }
                    machine.answered(.found(found))
                } catch { machine.answered(.failed("\(error)")) }
            case .open:
                guard let checked = state.checked else {
                    machine.answered(.failed("no checks to open it with"))
                    continue
                }
                do {
                    let iid = try await gitlab.openIssue(
                        state.terms.drill ? settings.drill : settings,
                        title: "failover-agent: \(state.terms.drill ? "DRILL: " : "")fail \(state.provider) over on \(target.name)",
                        description: ChangeRequestText.opening(state, checked: checked, target: target) + incident(state).comment,
                        marker: .issue(action: state.actionID), settled: settled)
                    logger.notice("opened change request \(settings.project)#\(iid)")
                    machine.answered(.opened(iid))
                } catch { machine.answered(.failed("\(error)")) }
            case .note(let note, let iid):
                state.changeRequest = iid
                guard let text = text(note, state) else {
                    machine.answered(.failed("no checks to note"))
                    continue
                }
                machine.answered(await comment(text, on: iid, state))
            case .close(let iid):
                do {
                    try await gitlab.closeIssue(settings, issue: iid)
                    logger.notice("closed change request \(settings.project)#\(iid)")
                    machine.answered(.done)
                } catch { machine.answered(.failed("\(error)")) }
            case .forget:
                try await forgetChangeRequest(of: state.provider)
                machine.answered(.done)
            case .journal(let iid):
                // A failover's is recorded in the secret's metadata by the write-ahead record of the write that follows.
                state.changeRequest = iid
                try await step(state.kind == .failover ? .changeRequest(iid: iid) : .changeRequestClosed(iid: iid))
                machine.answered(.done)
            case .finish(let result): return result
            }
        }
    }

    /// The incident's mark: the change request of one target and provider (and whether a drill).
    private func incident(_ state: ActionState) -> PostMarker {
        PostMarker.incident(target: target.name, provider: state.provider, drill: state.terms.drill)
    }

    /// The note's text; nil for a member's note without the checks it tells.
    private func text(_ note: ChangeRequestMachine.Note, _ state: ActionState) -> String? {
        switch note {
        case .member: return state.checked.map { ChangeRequestText.member(state, checked: $0, target: target) }
        case .carriedOn:
            return "Carried on by a new attempt: secret version \(state.checked?.secretVersion.description ?? "?"), pipeline at "
                + "\(state.checked?.sha ?? "?")."
        case .restoredInGroup: return "\(target.name) is restored; the group's last target closes this change request."
        case .closing:
            let how =
                target.restoreRedeploy || state.terms.drill
                ? "restored and deployed" : "restored in the secret; the next deployment picks it up"
            return "\(state.provider) is healthy again: \(how). Closing."
        }
    }

    /// A comment on change request `iid`, posted once (by its mark); one that cannot be written is logged.
    private func comment(_ text: String, on iid: Int, _ state: ActionState) async -> ChangeRequestMachine.Answer {
        guard let settings = target.changeRequest else { return .done }
        do {
            try await redeployer.gitlab.note(settings, issue: iid, text, action: state.actionID, resumed: state.resumed, settled: settled)
            return .done
        } catch {
            logger.warning("cannot comment on change request \(settings.project)#\(iid): \(error)")
            return .failed("\(error)")
        }
    }
}
