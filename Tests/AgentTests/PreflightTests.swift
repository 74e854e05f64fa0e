import Actions
import Foundation
import Selection
import Synchronization
import Testing

/// Right before a failover's write, every model it brings in gets a fresh probe.
/// What a pre-flight was asked, call by call.
final class Asked: Sendable {
    let calls = Mutex<[[String]]>([])
    var count: Int { calls.withLock { $0.count } }
}

@Suite(.serialized) struct PreflightTests {
    /// A pre-flight that answers `failing` models with `http_5xx` and the others `ok`, and keeps what it was asked.
    static func preflight(failing: @escaping @Sendable (String) -> Bool, asked: Asked) -> @Sendable ([String]) async -> [String: String] {
        { models in
            asked.calls.withLock { $0.append(models) }
            return Dictionary(uniqueKeysWithValues: models.map { ($0, failing($0) ? "http_5xx" : "ok") })
        }
    }

    @Test func aReplacementFailingItsPreflightIsReplacedByTheNext() async throws {
        let world = try await World.start()
        defer { Task { await world.stop() } }
        let asked = Asked()
        var executor = world.executor
        let firstChoice = try #require(
            world.executor.planner.plan(current: try ModelOverride.parse(World.original), failing: ["vertex"]).override["code_generations"]?
                .first)
        executor.preflight = Self.preflight(failing: { $0 == firstChoice }, asked: asked)
        let report = await executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed, "\(report.outcome)")
        let written = try ModelOverride.parse(world.vault.current(World.path)?.data["value"]?.string ?? "")
        #expect(written["code_generations"] != nil && written["code_generations"]?.contains(firstChoice) == false, "\(written.json)")
        #expect(report.preflight.contains { $0.model == firstChoice && $0.resultClass == "http_5xx" })
        #expect(report.preflight.contains { $0.model != firstChoice && $0.resultClass == "ok" })
        #expect(asked.count == 2, "asked again for the next choice only")
    }

    @Test func ourOwnBrokenProbeDoesNotDisqualifyAReplacement() async throws {
        let world = try await World.start()
        defer { Task { await world.stop() } }
        var executor = world.executor
        let firstChoice = try #require(
            world.executor.planner.plan(current: try ModelOverride.parse(World.original), failing: ["vertex"]).override["code_generations"]?
                .first)
        executor.preflight = { models in Dictionary(uniqueKeysWithValues: models.map { ($0, "auth") }) }
        let report = await executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed, "\(report.outcome)")
        let written = try ModelOverride.parse(world.vault.current(World.path)?.data["value"]?.string ?? "")
        #expect(written["code_generations"]?.first == firstChoice, "auth is our key's fault, not the model's: \(written.json)")
        #expect(report.preflight.contains { $0.model == firstChoice && $0.resultClass == "auth" })
    }

    @Test func aFeatureWhoseReplacementsAllFailIsLeftAloneAndSaidSo() async throws {
        let world = try await World.start()
        defer { Task { await world.stop() } }
        var executor = world.executor
        executor.preflight = Self.preflight(failing: { _ in true }, asked: Asked())
        let report = await executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed, "duo_chat still drops Vertex AI for the Anthropic model it already had: \(report.outcome)")
        let written = try ModelOverride.parse(world.vault.current(World.path)?.data["value"]?.string ?? "")
        #expect(written["duo_chat"] == ["claude_sonnet_4_6"])
        #expect(written["code_generations"] == nil, "no replacement passed: left alone")
        #expect(report.plan?.untouched.contains { $0.feature == "code_generations" } == true)
    }

    @Test func withNoSafePlanLeftNothingIsWritten() async throws {
        let world = try await World.start()
        defer { Task { await world.stop() } }
        let full = world.executor.planner
        // Only features that need a replacement to leave Vertex AI.
        let planner = Planner(catalog: full.catalog, features: full.features.filter { $0.setting == "code_generations" })
        var executor = TargetExecutor(
            target: world.executor.target, planner: planner, vault: world.executor.vault, redeployer: world.executor.redeployer,
            logger: .silent)
        executor.preflight = Self.preflight(failing: { _ in true }, asked: Asked())
        let before = world.vault.current(World.path)?.version
        let report = await executor.failover(provider: "vertex", apply: true)
        guard case .refused(let why) = report.outcome else {
            Issue.record("expected refused, got \(report.outcome)")
            return
        }
        #expect(why.contains("no safe plan"), "\(why)")
        #expect(world.vault.current(World.path)?.version == before, "nothing written")
        #expect(world.gitlab.retries.isEmpty, "nothing redeployed")
    }

    @Test func modelsTheHealthMachineCallsUnhealthyAreNeverChosen() async throws {
        let world = try await World.start()
        defer { Task { await world.stop() } }
        let current = try ModelOverride.parse(World.original)
        let firstChoice = try #require(
            world.executor.planner.plan(current: current, failing: ["vertex"]).override["code_generations"]?.first)
        let provider = try #require(world.executor.planner.catalog[firstChoice]?.provider)
        let report = await world.executor.perform(.failover, provider: "vertex", apply: true, avoid: ["\(provider)/\(firstChoice)"])
        #expect(report.outcome == .deployed, "\(report.outcome)")
        let written = try ModelOverride.parse(world.vault.current(World.path)?.data["value"]?.string ?? "")
        #expect(written["code_generations"]?.contains(firstChoice) == false, "\(written.json)")
    }
}
