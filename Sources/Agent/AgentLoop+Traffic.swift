import AgentCore
import Health
import Logging
import TrafficClient

extension AgentLoop {
    /// Reads every traffic source once and hands the core one reading: their counts added up, the
    /// oldest of their newest samples, or a failure when any does not answer.
    func readTraffic() async {
        var windows: [String: TrafficCount] = [:]
        var latest: Double?
        var failures: [String] = []
        for source in parts.traffic {
            let (reading, unmapped) = await source.read(now: now)
            for series in unmapped where unmappedSeries.insert(series).inserted {
                parts.logger.notice(
                    "traffic: series \(series) of \(source.settings.url) speaks for no probed subject (no single provider, or not probed); left out",
                    metadata: ["series": .string(series)])
            }
            switch reading {
            case .failed(let why): failures.append(why)
            case .answered(let counts, let newest):
                for (subject, count) in counts {
                    windows[subject, default: TrafficCount(requests: 0, failures: 0)].requests += count.requests
                    windows[subject, default: TrafficCount(requests: 0, failures: 0)].failures += count.failures
                }
                latest = newest.map { min(latest ?? $0, $0) } ?? -Double.infinity
            }
        }
        let reading: TrafficTrust.Reading =
            failures.isEmpty
            ? .answered(windows, latestSample: latest.flatMap { $0.isFinite ? $0 : nil }) : .failed(failures.joined(separator: "; "))
        await deliver(.traffic(reading))
        readingTraffic = false
        parts.metrics.trafficTrusted(core.traffic?.distrust == nil)
    }
}

extension AgentLoop {
    /// Waits until the probe cap allows a pre-flight probe of `endpoint` (its start is reserved).
    func waitForProbeStart(_ endpoint: String) async {
        let at = core.reserveProbe(endpoint, at: now)
        if at > now { try? await parts.clock.sleep(for: .milliseconds(Int64((at - now) * 1000))) }
    }
}
