import AgentConfig
import ControlSimulators
import Demo
import Foundation
import HTTP
import HTTPServer
import Scenarios
import Testing
import Timekeeping
import YAMLConfig

/// The gateway's traffic as evidence, on virtual time: a stand-in of Prometheus's query API
/// answers from the scenario (a Vertex AI brownout of 35 %), and the agent's traffic source reads
/// it as it reads the real one.
@Suite struct TrafficEndToEndTests {
    static func scenario() throws -> Scenario {
        try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: vertex-brownout-with-traffic
                seed: 5
                duration: 6m
                providers:
                  vertex:
                    - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0.003, class: http_5xx}}
                    - {at: 30s, failure: {rate: 0.35}}
                  bedrock:
                    - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0.003, class: http_5xx}}
                  anthropic:
                    - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0.003, class: overloaded}}
                traffic:
                  rps: 20
                  scrape_interval: 15s
                  window: 30s
                """, file: "test"))
    }

    func start() async throws -> (DemoWorld, PrometheusSimulator) {
        let world = try await DemoWorld.start(scenario: try Self.scenario(), timing: .virtual(VirtualClock()), mode: .perform) { _ in }
        return (world, try #require(world.prometheus))
    }

    /// Turns the loop until `condition` holds or scenario time passes `limit`.
    func wait(_ world: DemoWorld, until limit: Double, for condition: () async -> Bool) async -> Bool {
        await world.turn(for: max(0, Int(limit - world.scenarioTime)), until: condition)
    }

    func state(_ world: DemoWorld) async -> String? { await world.loop.status()["providers"]?["vertex"]?["state"]?.string }

    /// On probes alone a brownout trips `brownout_min_duration` (140 s) after its onset at the
    /// earliest: a failover before then was decided on the gateway's traffic.
    @Test func aBrownoutSeenInTheTrafficFailsOverBeforeProbesAloneCould() async throws {
        let (world, _) = try await start()
        #expect(await wait(world, until: 120) { await world.loop.status()["traffic"]?["evidence"]?.bool == true }, "Prometheus answers")
        // `recovering` follows only `failing`: a 35 % brownout gives three probe successes in a row soon after.
        #expect(await wait(world, until: 168) { ["failing", "recovering"].contains(await state(world)) }, "failed over on the traffic")
        let at = world.scenarioTime
        #expect(at < 170, "at \(at) s, before probes alone could trip (30 s + 140 s)")
        #expect(await wait(world, until: 300) { await world.loop.actionsDone.first?.outcome == .deployed })
        await world.stop()
    }

    /// Prometheus goes down in the middle of the brownout: one page, and nothing is failed over on
    /// the traffic seen before; probes alone decide, no sooner than their own evidence allows.
    @Test func aTrafficSourceDownMidIncidentIsPagedAndActsOnNothing() async throws {
        let (world, prometheus) = try await start()
        #expect(await wait(world, until: 120) { await world.loop.status()["traffic"]?["evidence"]?.bool == true })
        _ = await wait(world, until: 60) { false }  // into the brownout, its evidence building up
        prometheus.setTrouble(.down)
        let distrusted = {
            world.pagers.received.filter { $0.body["payload"]?["summary"]?.string?.hasPrefix("Traffic evidence distrusted") == true }
        }
        #expect(await wait(world, until: 160) { !distrusted().isEmpty }, "paged")
        _ = await wait(world, until: 165) { false }
        #expect(await state(world) != "failing", "no failover on the metrics seen before Prometheus went down")
        #expect(await world.loop.actionsDone.isEmpty)
        #expect(distrusted().count == 1, "paged once: \(distrusted().map { $0.body["payload"]?["summary"]?.string ?? "" })")
        #expect(await world.loop.status()["traffic"]?["distrust"]?.string?.contains("does not answer") == true)
        await world.stop()
    }
}

/// A real Prometheus server (Debian's `prometheus`) on 127.0.0.1 scraping the sandbox gateway's
/// own counters, read by the running agent through the query API on the wall clock (5×: a 30 s
/// window is 6 s): the queries the agent sends are the ones real Prometheus answers, and its
/// answers are evidence. Nothing here races the clock: it waits up to a minute and a half.
@Suite(.enabled(if: PrometheusServer.installed, "needs Debian's prometheus package"))
struct RealPrometheusTests {
    @Test func theAgentsQueriesAreAnsweredByARealPrometheusAsEvidence() async throws {
        let prometheus = Locked<PrometheusServer?>(nil)
        let world = try await DemoWorld.start(
            scenario: try TrafficEndToEndTests.scenario(), timing: .compressed(speed: 5), mode: .propose,
            trafficSource: { metrics in
                let server = try await PrometheusServer.start(scraping: metrics, every: "1s")
                prometheus.set(server)
                return server.url
            }
        ) { _ in }
        let server = try #require(prometheus.get())
        defer { server.stop() }
        let loop = world.loop
        let running = Task { await loop.run() }
        var evidence = false
        for _ in 0..<900 where !evidence {
            evidence = await world.loop.status()["traffic"]?["evidence"]?.bool == true
            if !evidence { try await Task.sleep(for: .milliseconds(100)) }
        }
        let traffic = await world.loop.status()["traffic"] ?? .null
        #expect(evidence, "the agent reads real Prometheus's answers as evidence: \(traffic)")
        running.cancel()
        await running.value
        await world.stop()
    }
}

/// A value behind a lock, for the closure that starts Prometheus.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
}

/// `prometheus` on 127.0.0.1 with a scratch TSDB, scraping one target.
final class PrometheusServer: Sendable {
    static let binary = "/usr/bin/prometheus"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: binary) }
    let process: Process
    let url: String
    let directory: String

    private init(process: Process, url: String, directory: String) {
        (self.process, self.url, self.directory) = (process, url, directory)
    }

    /// Starts it and waits (at most 20 s) until `/-/ready` answers 200.
    static func start(scraping metrics: String, every interval: String) async throws -> PrometheusServer {
        let target = URL(string: metrics)!
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
        global: {scrape_interval: \(interval), evaluation_interval: \(interval)}
        scrape_configs:
          - job_name: ai-gateway
            metrics_path: \(target.path)
            static_configs: [{targets: ["\(target.host!):\(target.port!)"]}]
        """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        // A free port: the OS's choice for a listener closed at once.
        let probe = try await HTTPServer.start { _ in .respond(status: 204) }
        let port = probe.port
        await probe.stop()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = PrometheusServer(process: process, url: "http://127.0.0.1:\(port)", directory: directory)
        let client = HTTPClient()
        defer { client.shutdown() }
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if case .success(let response) = await client.execute(HTTPRequest(url: server.url + "/-/ready")).result, response.status == 200
            {
                return server
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.stop()
        throw PrometheusError.notReady
    }

    enum PrometheusError: Error { case notReady }

    /// Kills it (SIGKILL: as a crashed Prometheus) and removes its data.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
