import Agent
import ControlSimulators
import Foundation
import HTTP
import KubernetesClient
import Leadership
import Telemetry
import Testing
import Timekeeping

/// Two elections against the loopback Lease server, in real time: never two leaders at once,
/// including across a partition that keeps the leader from renewing.
@Suite struct LeaseElectionEndToEndTests {
    func election(_ identity: String, _ server: LeaseSimulator, _ client: HTTPClient) throws -> LeaderElection {
        let settings = LeaseSettings(
            apiServer: server.url, namespace: "ops", name: "failover-agent", token: .environment("TOKEN"), identity: identity,
            election: LeaseElector.Settings(identity: identity, leaseDuration: 1, renewDeadline: 0.6, retryPeriod: 0.1))
        return LeaderElection(
            leases: try KubernetesLeases(settings: settings, client: client, environment: ["TOKEN": "token-\(identity)"]), logger: .silent)
    }

    /// Samples both every 10 ms for `seconds`; records any moment both lead; returns who led last.
    func watch(_ a: LeaderElection, _ b: LeaderElection, seconds: Double) async throws -> (both: Int, last: (Bool, Bool)) {
        var both = 0
        let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < end {
            if a.isLeader && b.isLeader { both += 1 }
            try await Task.sleep(for: .milliseconds(10))
        }
        return (both, (a.isLeader, b.isLeader))
    }

    @Test func aPartitionedLeaderStepsDownBeforeTheOtherTakesOver() async throws {
        let server = try await LeaseSimulator.start(tokens: ["token-a", "token-b"])
        let client = HTTPClient()
        let a = try election("a", server, client)
        let b = try election("b", server, client)
        let runA = Task { await a.run() }
        #expect(try await watch(a, b, seconds: 0.5).last == (true, false))
        let runB = Task { await b.run() }
        let settled = try await watch(a, b, seconds: 1.5)
        #expect(settled.both == 0 && settled.last == (true, false), "b waits while a renews")

        server.partition("token-a", true)  // a can no longer reach the API server
        let during = try await watch(a, b, seconds: 2.5)
        #expect(during.both == 0, "never two leaders")
        #expect(during.last == (false, true), "b took over")
        #expect(server.holders == ["a", "b"])

        server.partition("token-a", false)  // healed: a sees b renewing and stays a follower
        let healed = try await watch(a, b, seconds: 1.5)
        #expect(healed.both == 0 && healed.last == (false, true))
        a.stop()  // SIGTERM
        b.stop()
        await runA.value
        await runB.value
        #expect(server.holder("ops", "failover-agent") == nil, "b released it on the way out")
        client.shutdown()
        await server.stop()
    }

    /// Kubernetes rotates the projected service-account token (about hourly): the next renewal
    /// reads the new file, with no restart, and the old token is never needed again.
    @Test(.timeLimit(.minutes(1))) func aRotatedServiceAccountTokenIsPickedUpAndTheLeaseKeepsRenewing() async throws {
        let server = try await LeaseSimulator.start(tokens: ["token-first", "token-rotated"])
        let client = HTTPClient()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sa-token-\(UUID())").path
        try "token-first".write(toFile: file, atomically: true, encoding: .utf8)
        let settings = LeaseSettings(
            apiServer: server.url, namespace: "ops", name: "failover-agent", token: .file(file), identity: "a",
            election: LeaseElector.Settings(identity: "a", leaseDuration: 15, renewDeadline: 10, retryPeriod: 2))
        let clock = VirtualClock()
        let election = LeaderElection(
            leases: try KubernetesLeases(settings: settings, client: client, environment: [:]), logger: .silent, clock: clock)
        let running = Task { await election.run() }
        while server.writes(with: "token-first") < 3 { await Task.yield() }
        try "token-rotated".write(toFile: file, atomically: true, encoding: .utf8)
        server.partition("token-first", true)  // the old token would now fail
        while server.writes(with: "token-rotated") < 3 { await Task.yield() }
        #expect(election.isLeader, "renewed all along with the rotated token")
        #expect(server.holders == ["a"])
        election.stop()
        await running.value
        client.shutdown()
        await server.stop()
        try? FileManager.default.removeItem(atPath: file)
    }
}
