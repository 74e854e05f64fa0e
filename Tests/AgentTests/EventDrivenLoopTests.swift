import Agent
import AgentCore
import Foundation
import HTTP
import Health
import Journal
import Paging
import ProbeResults
import Probing
import Synchronization
import Testing
import Timekeeping

/// The running loop (``AgentLoop/run()``, concurrent, not inline) on a deadline-ordered virtual
/// clock: it has no tick; it sleeps until the core's next timer, and news or a stop wakes it.
@Suite struct EventDrivenLoopTests {
    static let providers = ["anthropic", "bedrock", "vertex"]

    /// Five minutes of steady probing of three providers (one every 5 s each) take a few hundred
    /// wakes of the clock, not the 6,000 a 50 ms tick would; the probes keep their cadence; a stop
    /// ends the loop at once, without the clock moving.
    @Test func theLoopSleepsUntilItsNextTimer() async throws {
        let clock = VirtualClock(mode: .ordered)
        let probes = Mutex(0)
        let journal = try Journal(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path, clock: clock)
        var parts = AgentLoop.Parts(
            specs: Self.providers.map { ProbeSpec(provider: $0, name: $0, url: "http://127.0.0.1:9/\($0)") },
            prober: Prober(client: HTTPClient(), clock: WallClock()), runner: ActionRunner(journal: journal, executors: []),
            pagers: Pagers([]),
            journal: journal, logger: .silent, clock: clock)
        parts.probe = { spec in
            probes.withLock { $0 += 1 }
            return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .ok, status: 200, ttfbMs: 200)
        }
        let loop = AgentLoop(
            core: AgentCore(settings: .init(targets: []), providers: Self.providers, policy: HealthPolicy()), parts: parts)
        let running = Task { await loop.run() }
        while clock.elapsed < .seconds(300) {
            // News (a probe's answer) may wake the loop between the two reads: then it goes to sleep again.
            if let deadline = clock.nextDeadline { await clock.advance(to: deadline) } else { await clock.sleepers(atLeast: 1) }
        }
        let (wakes, probed) = (clock.woken.count, probes.withLock { $0 })
        #expect(wakes < 400, "\(wakes) wakes in 300 s")
        #expect(probed >= 3 * 55 && probed <= 3 * 62, "\(probed) probes: one every 5 s per provider")
        await clock.sleepers(atLeast: 1)
        loop.stop()
        await running.value
        #expect(clock.elapsed < .seconds(310), "stopped without waiting for its next timer")
    }
}
