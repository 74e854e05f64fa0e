import Actions
import AgentCore
import ControlAPI
import TrafficClient

/// The loop's periodic duties (``Duties``) besides probing: readiness checks, traffic readings,
/// reads of the ownership records, and the state they feed to `/status`.
extension AgentLoop {
    func readinessChecked(_ target: String, _ checks: [ReadinessCheck]) {
        readiness.record(target, checks, metrics: parts.metrics, logger: parts.logger)
    }

    /// Reads every traffic source once and hands the core the reading.
    func readTraffic() async {
        let (reading, unmapped) = await parts.traffic.read(now: now)
        for (series, source) in unmapped where unmappedSeries.insert(series).inserted {
            parts.logger.notice(
                "traffic: series \(series) of \(source) speaks for no probed subject (no single provider, or not probed); left out",
                metadata: ["series": .string(series)])
        }
        duties.trafficRead()
        await deliver(.traffic(reading))
        parts.metrics.trafficTrusted(core.traffic.map { $0.trusted && $0.distrust == nil } ?? false)
    }

    /// Settles what each target's secret records as under way and reads what it says the agent owns.
    func readOwnership(_ targets: [String]) {
        let runner = parts.runner
        for target in targets {
            enqueue([target], key: "read \(target)") { await self.settled(runner.readOwnership(of: target, healthy: self.core.healthy)) }
        }
    }

    /// The agent's state for `/status` (``StatusView``).
    public func status() -> JSONValue {
        StatusView.json(core: core, now: now, approveCommand: parts.approveCommand, recent: history.entries, readiness: readiness.status)
    }

    /// Each drilled target's drills, as the core keeps them.
    public var drills: [String: DrillRecord] { core.drillRecords }

    /// Starts the fire drills due now; the first time, after reading from the journal when each
    /// target's last drill succeeded.
    func startDrills() async {
        if !drillHistoryRead {
            drillHistoryRead = true
            let successes = (try? await parts.journal.latest("drill", containing: "succeeded")) ?? [:]
            for (target, drill) in core.settings.drills {
                // None on record: the clock starts now, so a new agent has twice `every` for its first drill.
                parts.metrics.drillDeclared(target: target, every: drill.every, lastSuccess: successes[target] ?? parts.clock.unixTime)
            }
            await deliver(.drillHistory(successes))
        }
        await execute(core.drillsDue(unixTime: parts.clock.unixTime))
    }

    /// A fire drill of `target`, queued like any action; its result goes to the core and `/metrics`.
    func drill(_ target: String, provider: String) async {
        let report = await parts.runner.drill(target, provider: provider, avoid: core.monitor.unhealthy)
        parts.metrics.drilled(target: target, succeeded: report.succeeded, at: parts.clock.unixTime)
        await deliver(.drilled(target: target, succeeded: report.succeeded, summary: report.summary, unixTime: parts.clock.unixTime))
    }
}
