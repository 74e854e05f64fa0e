import Agent
import ControlSimulators
import Foundation
import HTTP
import KubernetesClient
import Leadership
import Telemetry
import Testing
import Timekeeping

/// Two elections against the loopback Lease server, on one deadline-ordered virtual clock: never
/// two leaders at once, including across a partition that keeps the leader from renewing. The
/// clock moves only while every running election sleeps (none has a request in flight), so the
/// Lease's one-second timings hold however loaded the machine is.
@Suite struct LeaseElectionEndToEndTests {
    func election(_ identity: String, _ server: LeaseSimulator, _ client: HTTPClient, _ clock: VirtualClock) throws -> LeaderElection {
        let settings = LeaseSettings(
            apiServer: server.url, namespace: "ops", name: "failover-agent", token: .environment("TOKEN"), identity: identity,
            election: LeaseElector.Settings(identity: identity, leaseDuration: 1, renewDeadline: 0.6, retryPeriod: 0.1))
        return LeaderElection(
            leases: try KubernetesLeases(
                settings: settings, client: client, environment: ["TOKEN": "token-\(identity)"], clock: WallClock()), logger: .silent,
            clock: clock)
    }

    /// Moves `clock` on by `seconds`, a sleeper at a time, each time all `running` elections sleep;
    /// records any such moment both lead; returns who led last.
    func watch(
        _ a: LeaderElection, _ b: LeaderElection, running: Int, _ clock: VirtualClock, seconds: Double
    ) async -> (both: Int, last: (Bool, Bool)) {
        let end = clock.elapsed + .milliseconds(Int64(seconds * 1000))
        var both = 0
        while true {
            await clock.sleepers(atLeast: running)
            if a.isLeader && b.isLeader { both += 1 }
            guard let next = clock.nextDeadline, next <= end else { break }
            await clock.advance(to: next)
        }
        await clock.advance(to: end)
        return (both, (a.isLeader, b.isLeader))
    }

    @Test func aPartitionedLeaderStepsDownBeforeTheOtherTakesOver() async throws {
        let server = try await LeaseSimulator.start(tokens: ["token-a", "token-b"])
        let client = HTTPClient()
        let clock = VirtualClock(mode: .ordered)
        let a = try election("a", server, client, clock)
        let b = try election("b", server, client, clock)
        let runA = Task { await a.run() }
        #expect(await watch(a, b, running: 1, clock, seconds: 0.5).last == (true, false))
        let runB = Task { await b.run() }
        let settled = await watch(a, b, running: 2, clock, seconds: 1.5)
        #expect(settled.both == 0 && settled.last == (true, false), "b waits while a renews")

        server.partition("token-a", true)  // a can no longer reach the API server
        let during = await watch(a, b, running: 2, clock, seconds: 2.5)
        #expect(during.both == 0, "never two leaders")
        #expect(during.last == (false, true), "b took over")
        #expect(server.holders == ["a", "b"])

        server.partition("token-a", false)  // healed: a sees b renewing and stays a follower
        let healed = await watch(a, b, running: 2, clock, seconds: 1.5)
        #expect(healed.both == 0 && healed.last == (false, true))
        a.stop()  // SIGTERM: each ends at its next wake
        b.stop()
        await clock.sleepers(atLeast: 2)
        await clock.advance(to: clock.elapsed + .milliseconds(100))
        await runA.value
        await runB.value
        #expect(server.holder("ops", "failover-agent") == nil, "b released it on the way out")
        client.shutdown()
        await server.stop()
    }

    /// Kubernetes rotates the projected service-account token (about hourly): the next renewal
    /// reads the new file, with no restart, and the old token is never needed again.
    @Test(.timeLimit(.minutes(5))) func aRotatedServiceAccountTokenIsPickedUpAndTheLeaseKeepsRenewing() async throws {
        let server = try await LeaseSimulator.start(tokens: ["token-first", "token-rotated"])
        let client = HTTPClient()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sa-token-\(UUID())").path
        try "token-first".write(toFile: file, atomically: true, encoding: .utf8)
        let settings = LeaseSettings(
            apiServer: server.url, namespace: "ops", name: "failover-agent", token: .file(file), identity: "a",
            election: LeaseElector.Settings(identity: "a", leaseDuration: 15, renewDeadline: 10, retryPeriod: 2))
        let clock = VirtualClock(mode: .ordered)
        let election = LeaderElection(
            leases: try KubernetesLeases(settings: settings, client: client, environment: [:], clock: WallClock()), logger: .silent,
            clock: clock)
        /// Moves the clock to the election's next wake, each time it sleeps, until `done`.
        func advance(until done: () -> Bool) async {
            while !done() {
                await clock.sleepers(atLeast: 1)
                if let next = clock.nextDeadline { await clock.advance(to: next) }
            }
        }
        let running = Task { await election.run() }
        await advance { server.writes(with: "token-first") >= 3 }
        try "token-rotated".write(toFile: file, atomically: true, encoding: .utf8)
        server.partition("token-first", true)  // the old token would now fail
        await advance { server.writes(with: "token-rotated") >= 3 }
        await clock.sleepers(atLeast: 1)
        #expect(election.isLeader, "renewed all along with the rotated token")
        #expect(server.holders == ["a"])
        election.stop()
        await clock.advance(to: clock.elapsed + .seconds(2))
        await running.value
        client.shutdown()
        await server.stop()
        try? FileManager.default.removeItem(atPath: file)
    }
}
