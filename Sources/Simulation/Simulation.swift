import Actions
import AgentCore
import Foundation
import Lifecycle
import ProbeResults
import Scenarios
import Timekeeping

/// The whole agent — its core, its action executor and its clients — run against the simulated
/// world on virtual time, through a random incident and random faults drawn from one seed. The
/// same seed replays the same run: one task, one clock that moves only when the run says.
public enum Simulation {
    /// What one run found.
    public struct Run: Sendable {
        public var seed: UInt64
        public var provider: String
        public var faults: [SimulatedFault]
        public var violations: [String] = []
        /// What happened, a line per action and per fault that struck.
        public var trace: [String] = []
        /// The pages PagerDuty received, in order: `event_action severity dedup_key`.
        public var pages: [String] = []

        /// `seed 17: vertex down 240–900 s; faults: crash(after 7); 0 violations`.
        public var summary: String {
            "seed \(seed): \(provider); faults: \(faults.map(\.description).joined(separator: ", ")); \(violations.count) violations"
        }
    }

    /// Runs the simulation drawn from `seed`.
    public static func run(seed: UInt64) async -> Run {
        var random = SplitMix64(seed: seed)
        let incident = Incident.draw(using: &random)
        var faults = SimulatedFault.draw(using: &random, incidentStart: incident.start)
        // One seed in seven has a traffic source, in trouble for a while (drawn last: the other seeds draw as they always did).
        if seed % 7 == 6 { faults.append(SimulatedFault.drawTraffic(using: &random, incidentStart: incident.start)) }
        // One seed in five has Vault or GitLab answering slowly (drawn after that, for the same reason;
        // none of the seeds kept as tests is one of them).
        if seed % 5 == 1 { faults.append(SimulatedFault.drawSlow(using: &random)) }
        // One seed in three runs the target in `propose` mode, a person approving each proposal half a minute after its page.
        return await run(incident, faults: faults, seed: seed, mode: seed % 3 == 0 ? .propose : .perform)
    }

    /// Runs `provider` failing from `start` for `length` seconds, with exactly these faults: a
    /// case a seed found, kept as a test whatever the draw becomes.
    /// With `drill`, the target has fire drills, scheduled as `run` schedules them.
    public static func run(
        provider: String, start: Double, length: Double, faults: [SimulatedFault], drill: DrillSettings? = nil, mode: ActionMode = .perform
    ) async -> Run {
        await run(Incident(provider: provider, start: start, length: length), faults: faults, seed: 0, drill: drill, mode: mode)
    }

    static func run(
        _ incident: Incident, faults: [SimulatedFault], seed: UInt64, drill: DrillSettings? = nil, mode: ActionMode
    ) async -> Run {
        var run = Run(seed: seed, provider: incident.description + (mode == .propose ? " (propose)" : ""), faults: faults)
        let clock = VirtualClock()
        let world: SimulatedWorld
        let traffic = faults.contains { if case .traffic = $0 { true } else { false } }
        do { world = try await SimulatedWorld.start(clock: clock, drill: drill, traffic: traffic) } catch {
            run.violations.append("the simulated world did not start: \(error)")
            return run
        }
        do {
            var driver = try Driver(world: world, incident: incident, faults: faults, mode: mode)
            await driver.play()
            run.violations = driver.violations
            run.trace = driver.trace
            run.pages = world.pagers.received.map { page in
                [page.body["event_action"]?.string, page.body["payload"]?["severity"]?.string, page.body["dedup_key"]?.string]
                    .compactMap { $0 }.joined(separator: " ")
            }
        } catch { run.violations.append("the agent did not start: \(error)") }
        await world.stop()
        return run
    }

    /// One provider's incident: its probes fail from `start` for `length` seconds.
    struct Incident: CustomStringConvertible {
        var provider: String
        var start: Double
        var length: Double
        var end: Double { start + length }

        static func draw(using random: inout SplitMix64) -> Incident {
            Incident(
                provider: ["vertex", "anthropic", "bedrock"].randomElement(using: &random)!,
                start: Double.random(in: 60...300, using: &random).rounded(),
                length: Double.random(in: 300...1500, using: &random).rounded())
        }

        var description: String { "\(provider) down \(Int(start))–\(Int(end)) s" }
    }
}
