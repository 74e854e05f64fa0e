import Demo
import Testing
import Timekeeping

/// The running loop (``AgentLoop/run()``: its work concurrent, not inline) on a deadline-ordered
/// virtual clock, moved from sleeper to sleeper: what only concurrency can show.
@Suite struct ConcurrentLoopEndToEndTests {
    /// Moves `clock` to each next deadline until `condition` holds, for at most `seconds` of it.
    func wait(_ clock: VirtualClock, seconds: Int = 600, until condition: () async -> Bool) async -> Bool {
        let end = clock.elapsed + .seconds(seconds)
        while clock.elapsed < end {
            if await condition() { return true }
            await clock.sleepers(atLeast: 1)
            if let next = clock.nextDeadline { await clock.advance(to: min(next, end)) }
        }
        return await condition()
    }

    /// A restart finds an interrupted action whose deploy never ends: the loop goes on probing and
    /// deciding (another target's failover goes ahead), and the recovered action's outcome is
    /// paged once its deploy ends.
    @Test func aRecoveryWhoseDeployHangsDoesNotHoldTheLoop() async throws {
        let clock = VirtualClock(mode: .ordered)
        let world = try await DemoWorld.start(
            scenario: try AgentEndToEndTests.scenario(recovery: "250s"), timing: .virtual(clock), mode: .perform, withDWS: true,
            grouped: false
        ) { _ in }
        // Before this start, a failover on DWS died (kill -9) right after retrying its deploy job.
        world.gitlab.holdDeploys(of: DemoWorld.dwsDeployJob, true)
        let journal = world.journal
        let intent = try await journal.beginIntent("failover", target: "dws-production", provider: "vertex", detail: "")
        var dying = try #require(world.executors.first { $0.target.name == "dws-production" })
        dying.onStep = { step in
            try await journal.step(intent, step.name, detail: step.detail)
            if step.name == "job-retried" { throw Died() }
        }
        _ = await dying.failover(provider: "vertex", apply: true)
        #expect(world.gitlab.retries == [3])
        let loop = world.loop
        let running = Task { await loop.run() }
        #expect(
            await wait(clock) { world.gateway.defaults(of: "generate_commit_message") == ["claude_haiku_4_5_20251001"] },
            "the gateway's failover went ahead while DWS's recovery waits on its deploy")
        #expect(world.gitlab.retries == [3, 2], "the recovery retried nothing again")
        #expect(await world.loop.status()["failing"]?.array?.contains(.string("vertex")) == true, "probing and deciding go on")
        func recoveredPage() -> Bool {
            world.pagers.received.contains {
                $0.body["payload"]?["summary"]?.string?.contains("on dws-production, interrupted by a restart, was finished") == true
            }
        }
        #expect(!recoveredPage())
        world.gitlab.holdDeploys(of: DemoWorld.dwsDeployJob, false)
        #expect(await wait(clock) { recoveredPage() }, "the recovered action's outcome is paged")
        #expect(world.dwsGateway?.defaults(of: "generate_commit_message") == ["claude_haiku_4_5_20251001"])
        running.cancel()
        await running.value
        await world.stop()
    }
}
