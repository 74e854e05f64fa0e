/// Restores written without a redeploy, each waiting for its target's next deployment: the core
/// owns the timer and what to verify, the loop makes one check at a time per target
/// (``AgentCommand/checkNextDeployment(target:provider:watch:_:)``)
/// and reports what it found. A newer restore's watch of a target replaces the older, whose late
/// answer is ignored; any other write to the target ends the watch.
public struct DeploymentWatches: Sendable, Equatable {
    struct Watch: Sendable, Equatable {
        var provider: String
        var awaited: AwaitedDeployment
        var id: Int
        /// When the next check is due; nil while one is under way.
        var due: Double?
    }
    private var watches: [String: Watch] = [:]
    private var lastID = 0

    /// Starts watching `target`'s next deployment for the restore of `provider`, checked at once.
    mutating func begin(_ target: String, provider: String, _ awaited: AwaitedDeployment, at now: Double) {
        lastID += 1
        watches[target] = Watch(provider: provider, awaited: awaited, id: lastID, due: now)
    }

    /// Stops watching `target`: a later write there is deployed and verified on its own, and the
    /// deployment it makes would be judged against a restore it has overtaken.
    mutating func end(_ target: String) { watches[target] = nil }

    /// The checks due at `now`, each under way from then until its answer.
    mutating func due(at now: Double) -> [AgentCommand] {
        var commands: [AgentCommand] = []
        for (target, watch) in watches.sorted(by: { $0.key < $1.key }) {
            guard let due = watch.due, due <= now else { continue }
            watches[target]?.due = nil
            commands.append(.checkNextDeployment(target: target, provider: watch.provider, watch: watch.id, watch.awaited))
        }
        return commands
    }

    /// The answer to check `id` of `target`: the watched provider while that watch is current
    /// (nil: a newer watch replaced it). Not final: checked again `checkAgainIn` seconds on.
    mutating func answered(_ target: String, watch id: Int, _ check: NextDeploymentCheck, at now: Double) -> String? {
        guard let watch = watches[target], watch.id == id else { return nil }
        if case .notYet(let again) = check {
            watches[target]?.due = now + max(again, 0)
        } else {
            watches[target] = nil
        }
        return watch.provider
    }

    /// When the next check is due.
    var nextDue: Double { watches.values.compactMap(\.due).min() ?? .infinity }
}
