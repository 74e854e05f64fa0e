import Health

/// One target's fire drills, as the core keeps them.
public struct DrillRecord: Sendable, Equatable {
    /// Calendar times (Unix seconds).
    public var lastSuccess: Double?
    public var lastAttempt: Double?
    public var running = false
    /// What the last one came to.
    public var lastResult: String?

    public init() {}
}

/// Scheduled fire drills (`targets[].drill`): when one starts, and what its end is paged as.
extension AgentCore {
    /// The drills to start at `unixTime` (calendar time): each target whose drill is due
    /// (``DrillSettings/due(at:lastSuccess:lastAttempt:)``), while this replica leads and is not
    /// paused, sees, every provider healthy, every target's record read and nothing failed over,
    /// no proposal open, and no drill under way.
    public mutating func drillsDue(unixTime: Double) -> [AgentCommand] {
        guard custody.leading, !paused, !monitor.isBlind, custody.unread.isEmpty, custody.owned.isEmpty,
            monitor.machines.values.allSatisfy({ $0.state == .healthy }), !proposals.values.contains(where: { $0.status == .open })
        else { return [] }
        var commands: [AgentCommand] = []
        for (target, drill) in settings.drills.sorted(by: { $0.key < $1.key }) {
            var record = drillRecords[target] ?? DrillRecord()
            guard !record.running, !drillRecords.values.contains(where: \.running),
                drill.due(at: unixTime, lastSuccess: record.lastSuccess, lastAttempt: record.lastAttempt)
            else { continue }
            record.running = true
            record.lastAttempt = unixTime
            drillRecords[target] = record
            commands.append(.log(LogLine(.notice, "fire drill of \(drill.provider) on \(target) starting", ["target": target])))
            commands.append(.drill(target: target, provider: drill.provider))
        }
        return commands
    }

    /// A drill ended: a failure is paged once; the next success resolves it.
    mutating func drilled(_ target: String, succeeded: Bool, summary: String, at unixTime: Double) -> [AgentCommand] {
        var record = drillRecords[target] ?? DrillRecord()
        let failedBefore = record.lastResult.map { !$0.contains("succeeded") } ?? false
        let sameFailure = record.lastResult == summary
        record.running = false
        record.lastResult = summary
        if succeeded { record.lastSuccess = unixTime }
        drillRecords[target] = record
        let key = "failover-agent/\(target)/drill"
        guard succeeded else {
            // Paged when it starts failing, or fails otherwise; the same failure again is only logged.
            return [.log(LogLine(.error, summary, ["target": target]))]
                + (sameFailure
                    ? []
                    : [
                        .alert(
                            Alert(dedupKey: key, summary: summary + ": the agent may not be able to act when it must", severity: .warning))
                    ])
        }
        return [.log(LogLine(.notice, summary, ["target": target]))]
            + (failedBefore ? [.alert(Alert(dedupKey: key, summary: summary, severity: .info, resolve: true))] : [])
    }
}
