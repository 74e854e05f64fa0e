import AgentCore
import Health
import Logging
import TrafficClient

extension AgentLoop {
    /// Reads every traffic source once and hands the core one reading: their counts added up, the
    /// oldest of their newest samples, or a failure when any does not answer.
    func readTraffic() async {
        var windows: [String: TrafficCount] = [:]
        var newest: [Double?] = []
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
            case .answered(let counts, let latest):
                for (subject, count) in counts {
                    windows[subject, default: TrafficCount(requests: 0, failures: 0)].requests += count.requests
                    windows[subject, default: TrafficCount(requests: 0, failures: 0)].failures += count.failures
                }
                newest.append(latest)
            }
        }
        // The oldest source decides freshness; one without samples makes the reading have none.
        let latest = newest.contains(nil) ? nil : newest.compactMap { $0 }.min()
        let reading: TrafficTrust.Reading =
            failures.isEmpty ? .answered(windows, latestSample: latest) : .failed(failures.joined(separator: "; "))
        await deliver(.traffic(reading))
        readingTraffic = false
        parts.metrics.trafficTrusted(core.traffic.map { $0.trusted && $0.distrust == nil } ?? false)
    }
}
