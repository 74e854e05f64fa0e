import Actions
import AgentCore
import ControlAPI
import TrafficClient

/// The loop's periodic duties (``Duties``) besides probing: readiness checks, traffic readings,
/// and the state they feed to `/status`.
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
        await deliver(.traffic(reading))
        duties.trafficRead()
        parts.metrics.trafficTrusted(core.traffic.map { $0.trusted && $0.distrust == nil } ?? false)
    }

    /// The agent's state for `/status` (``StatusView``).
    public func status() -> JSONValue {
        StatusView.json(core: core, now: now, approveCommand: parts.approveCommand, recent: recent.entries, readiness: readiness.status)
    }
}
