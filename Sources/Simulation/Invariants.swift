import ControlAPI
import ControlSimulators
import Selection

/// What must hold whatever the faults, checked after every turn that wrote and at the end of a run
/// (issue 37's list). Each check returns what it found wrong, worded for the run's report.
enum Invariants {
    /// After each turn that wrote: what the world holds is what some plan decided, once.
    static func afterWrite(_ world: SimulatedWorld) -> [String] {
        var found: [String] = []
        let history = world.history
        for (index, pair) in zip(history, history.dropFirst()).enumerated() where pair.0 == pair.1 {
            found.append("version \(index + 2) of the secret repeats version \(index + 1): a write was repeated blindly")
        }
        let image = world.gateway.image
        for (index, value) in history.enumerated() where value != SimulatedWorld.original {
            guard let value else {
                found.append("version \(index + 1) of the secret has no override key")
                continue
            }
            if let problem = unacceptable(value, image: image) { found.append("version \(index + 1): \(problem)") }
        }
        let retried = world.gitlab.retries
        if Set(retried).count != retried.count { found.append("a job was retried twice: \(retried)") }
        if retried.count > history.count - 1 {
            found.append("\(retried.count) job retries for \(history.count - 1) writes: more than one deploy per action")
        }
        if !world.gitlab.plays.isEmpty { found.append("a manual job was played: \(world.gitlab.plays)") }
        if !world.gitlab.racingRetries.isEmpty {
            found.append("retried an older pipeline while a newer deploy was pending or running: \(world.gitlab.racingRetries)")
        }
        let pipelines = world.gitlab.deployments("production").compactMap(\.pipeline)
        if !zip(pipelines, pipelines.dropFirst()).allSatisfy({ $0 <= $1 }) {
            found.append("production went back to an older image: pipelines \(pipelines)")
        }
        for issue in world.changeRequests {
            // A note's body ends with its action's mark: the same body twice is one note posted twice.
            for (index, note) in issue.notes.enumerated() where issue.notes[..<index].contains(note) {
                found.append("change request #\(issue.iid) has a note twice: \(note.split(separator: "\n").first ?? "")")
            }
        }
        return found
    }

    /// Why the gateway would not serve `value` as it should: not an object of model lists, an
    /// empty list, or a model its image does not serve or the feature does not allow.
    static func unacceptable(_ value: String, image: GatewayImage) -> String? {
        guard let object = JSONValue.parse(Array(value.utf8))?.object else { return "the override is not a JSON object" }
        for (feature, list) in object {
            guard let models = list.array?.compactMap(\.string), models.count == list.array?.count else {
                return "\(feature) is not a list of model ids"
            }
            if models.isEmpty { return "\(feature) lists no model" }
            for model in models where !image.models.contains(model) { return "\(feature) names \(model), which the image does not serve" }
            let selectable = image.selectable[feature] ?? []
            for model in models where !selectable.isEmpty && !selectable.contains(model) {
                return "\(feature) names \(model), which it does not allow"
            }
        }
        return nil
    }

    /// At the end, once every fault was healed and the provider was healthy long enough: the world
    /// is as it was, and every action ended.
    static func atEnd(_ world: SimulatedWorld, openIntents: Int, failoversWritten: Int) -> [String] {
        var found: [String] = []
        if world.secret != SimulatedWorld.original {
            found.append("the secret is not back byte for byte: \(world.secret ?? "nil")")
        }
        let owned = world.vault.customMetadata(SimulatedWorld.path).filter { $0.key.hasPrefix("failover-agent") }
        if !owned.isEmpty {
            found.append("the secret's metadata still records the agent's ownership: \(owned.sorted { $0.key < $1.key })")
        }
        if !world.gitlab.variables.isEmpty { found.append("CI variables left behind: \(world.gitlab.variables)") }
        if openIntents > 0 { found.append("\(openIntents) intents left open in the live journal") }
        // One change request per incident: one per failover written, and the incident's own even
        // when its failover stopped before the write (seed 114); every one closed.
        let issues = world.changeRequests
        if issues.count > max(failoversWritten, 1) {
            found.append("\(issues.count) change requests for \(failoversWritten) failovers: \(issues.map(\.iid))")
        }
        for issue in issues where issue.state != "closed" { found.append("change request #\(issue.iid) left open") }
        return found
    }
}
