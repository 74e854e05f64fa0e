import ArgumentParser
import BenchSupport
import Glibc
import Health
import ProbeResults
import Replay
import Scenarios

/// Replay throughput: probes decided per second, and the time for a long multi-provider day.
struct ReplayBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Replay a synthetic noisy day with outages in virtual time; print probes decided/s.")

    @Option(help: "Hours of virtual time (at most 720).") var hours = 24.0
    @Option(help: "Providers (at most 50).") var providers = 3
    @Option(help: "Runs; the best is reported.") var runs = 3

    func validate() throws {
        guard hours > 0, hours <= 720, (1...50).contains(providers), (1...20).contains(runs) else {
            throw ValidationError("--hours must be in (0, 720], --providers 1…50, --runs 1…20")
        }
    }

    func run() {
        let scenario = Self.synthetic(hours: hours, providers: providers)
        var best = Double.infinity
        var report: Replay.Report?
        for _ in 0..<runs {
            let clock = ContinuousClock()
            var lines = 0
            let start = clock.now
            report = Replay.run(scenario, options: .init()) { _ in lines += 1 }
            best = min(best, (clock.now - start) / .seconds(1))
        }
        guard let report else { return }
        writeLine(
            "replay hours=\(fixed(hours, 1)) providers=\(providers) probes=\(report.probes) "
                + "failovers=\(report.actions.filter { $0.action == .failover }.count) "
                + "restores=\(report.actions.filter { $0.action == .restore }.count) seconds=\(fixed(best, 4)) "
                + "probes_decided_per_s=\(Int(Double(report.probes) / best)) peak_rss_mb=\(fixed(peakRSSMegabytes(), 1))"
        )
    }

    /// Every provider: ordinary noise and a long latency tail, plus a 10-minute hard outage every
    /// 6 hours, staggered between providers.
    static func synthetic(hours: Double, providers count: Int) -> Scenario {
        let duration = hours * 3600
        let providers = (0..<count).map { index -> (name: String, phases: [Scenario.Phase]) in
            var phases = [
                Scenario.Phase(at: 0, latencyP50: 0.4 + 0.05 * Double(index % 5), latencyP99: 3, failureRate: 0.01, failureClass: .http5xx)
            ]
            var outage = 3600.0 * 2 + 900 * Double(index)
            while outage + 600 < duration {
                phases.append(Scenario.Phase(at: outage, failureRate: 1))
                phases.append(Scenario.Phase(at: outage + 600, failureRate: 0.01))
                outage += 6 * 3600
            }
            return ("provider-\(index)", phases)
        }
        return Scenario(name: "bench-\(Int(hours))h-\(count)p", seed: 7, duration: duration, providers: providers)
    }
}
