import Actions
import Agent
import AgentConfig
import AgentCore
import ControlSimulators
import Foundation
import GitLabClient
import HTTP
import Journal
import Selection
import Synchronization
import Telemetry
import Testing
import Timekeeping
import VaultClient

struct Crash: Error {}

/// Simulated Vault and GitLab with one target, and a journal on disk.
struct World {
    static let path = "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS"
    static let original = #"{"duo_chat": ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"]}"#
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/aigw")
        .standardized.path
    let vault: VaultSimulator
    let gitlab: GitLabSimulator
    let client: HTTPClient
    let journalPath: String
    let executor: TargetExecutor

    static func start() async throws -> World {
        let vault = try await VaultSimulator.start()
        let gitlab = try await GitLabSimulator.start()
        vault.put(path, ["value": .string(original)])
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true)])
        let catalog = try CatalogLoader.models(file: fixtures + "/models.yml")
        let planner = Planner(
            catalog: catalog, features: try CatalogLoader.features(file: fixtures + "/unit_primitives.yml", catalog: catalog))
        let target = Target(
            name: "aigw-production", mode: .perform,
            vault: VaultSettings(address: vault.address, path: path, token: .environment("V")),
            gitlab: GitLabSettings(
                url: gitlab.url, project: "42", deployJob: .service("ai-gateway", environment: "production"), token: .environment("G")),
            restoreRedeploy: true)
        let env = ["V": vault.token, "G": gitlab.token]
        let client = HTTPClient()
        let executor = TargetExecutor(
            target: target, planner: planner,
            vault: try VaultKV(settings: target.vault, client: client, environment: env, clock: WallClock()),
            redeployer: Redeployer(
                gitlab: try GitLab(settings: target.gitlab, client: client, environment: env, clock: WallClock()), clock: VirtualClock()),
            logger: .silent)
        let journalPath = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path
        return World(vault: vault, gitlab: gitlab, client: client, journalPath: journalPath, executor: executor)
    }

    /// Runs a failover that dies (like kill -9) when it comes to journal `crashAt`: that step and
    /// everything after it never happen, and no result is written. `beforeTheWrite`: it dies
    /// right after journaling its checks instead (Vault refuses what comes next).
    func crashingFailover(crashAt: String, beforeTheWrite: Bool = false) async throws {
        let journal = try Journal(path: journalPath, clock: WallClock())
        let intent = try await journal.beginIntent("failover", target: "aigw-production", provider: "vertex", detail: "")
        var dying = executor
        dying.onStep = { [vault] step in
            if step.name == crashAt { throw Crash() }
            try await journal.step(intent, step.name, detail: step.detail)
            if beforeTheWrite, step.name == "checked" { vault.failNext(1, status: 403) }
        }
        _ = await dying.failover(provider: "vertex", apply: true)
    }

    func stop() async {
        client.shutdown()
        await vault.stop()
        await gitlab.stop()
        try? FileManager.default.removeItem(atPath: journalPath)
    }
}

@Suite(.serialized) struct RecoveryTests {
    @Test func aRunRecordsIntentStepsAndResult() async throws {
        let world = try await World.start()
        let runner = ActionRunner(journal: try Journal(path: world.journalPath, clock: WallClock()), executors: [world.executor])
        let report = await runner.run(.failover, provider: "vertex", target: "aigw-production")
        #expect(report.outcome == .deployed)
        let kinds = try await Journal(path: world.journalPath, clock: WallClock()).history().map(\.kind)
        #expect(
            kinds == [
                "intent:failover", "step:checked", "step:secret-written", "step:deploy-decision", "step:job-retried", "step:downstream",
                "step:deployed", "result",
            ])
        #expect(try await Journal(path: world.journalPath, clock: WallClock()).openIntents().isEmpty)
        await world.stop()
    }

    /// Killed after the Vault write, before the retry: the restart retries once, and writes nothing.
    @Test func killedAfterTheWriteRetriesExactlyOnce() async throws {
        let fresh = try await World.start()
        try await fresh.crashingFailover(crashAt: "secret-written")
        #expect(fresh.vault.current(World.path)?.version == 2, "the secret was written")
        #expect(fresh.gitlab.retries.isEmpty, "the process died before the retry")
        let restarted = ActionRunner(journal: try Journal(path: fresh.journalPath, clock: WallClock()), executors: [fresh.executor])
        let reports = await restarted.recover()
        #expect(reports.map(\.outcome) == [.deployed])
        #expect(fresh.gitlab.retries == [1], "exactly one retry in total")
        #expect(fresh.vault.current(World.path)?.version == 2, "no second secret write")
        #expect(try await Journal(path: fresh.journalPath, clock: WallClock()).openIntents().isEmpty)
        #expect(await restarted.recover().isEmpty, "a second restart has nothing left to do")
        #expect(fresh.gitlab.retries == [1])
        await fresh.stop()
    }

    /// Killed after GitLab accepted the retry but before the journal heard of it: follow, do not retry again.
    @Test func killedAfterTheRetryFollowsTheRetriedJob() async throws {
        let world = try await World.start()
        try await world.crashingFailover(crashAt: "job-retried")
        #expect(world.gitlab.retries == [1])
        let report = await ActionRunner(journal: try Journal(path: world.journalPath, clock: WallClock()), executors: [world.executor])
            .recover()
        #expect(report.map(\.outcome) == [.deployed])
        #expect(world.gitlab.retries == [1], "still one retry")
        #expect(world.vault.current(World.path)?.version == 2)
        await world.stop()
    }

    /// Killed before its checks were journaled: nothing was written, so nothing is carried out on
    /// the old decision; the health machine decides again.
    @Test func killedBeforeItsChecksNothingIsCarriedOut() async throws {
        let world = try await World.start()
        try await world.crashingFailover(crashAt: "checked")
        let journal = try Journal(path: world.journalPath, clock: WallClock())
        #expect(await ActionRunner(journal: journal, executors: [world.executor]).recover().isEmpty)
        #expect(world.vault.current(World.path)?.version == 1 && world.gitlab.retries.isEmpty)
        #expect(try await journal.openIntents().isEmpty)
        #expect(try await journal.history().last?.detail.contains("stopped before its checks") == true)
        await world.stop()
    }

    /// Killed after its checks and before its write: the restart plans again from the secret, which
    /// no one changed since, and does the whole action once.
    @Test func killedBeforeTheWriteActsOnce() async throws {
        let world = try await World.start()
        try await world.crashingFailover(crashAt: "secret-written", beforeTheWrite: true)
        #expect(world.vault.current(World.path)?.version == 1)
        let report = await ActionRunner(journal: try Journal(path: world.journalPath, clock: WallClock()), executors: [world.executor])
            .recover()
        #expect(report.map(\.outcome) == [.deployed])
        #expect(world.vault.current(World.path)?.version == 2)
        #expect(world.gitlab.retries == [1])
        await world.stop()
    }

    /// The Lease is lost right after the secret write: the retry never happens here, the intent
    /// stays open, and whoever leads next (here: this replica again) retries once.
    @Test func losingTheLeaseMidActionStopsBeforeTheNextSideEffect() async throws {
        let world = try await World.start()
        let journal = try Journal(path: world.journalPath, clock: WallClock())
        let asked = Mutex(0)
        let runner = ActionRunner(journal: journal, executors: [world.executor]) {
            asked.withLock { count in
                count += 1
                return count <= 3  // leads for the `checked` step, the write-ahead record and the secret write: lost before the retry
            }
        }
        let report = await runner.run(.failover, provider: "vertex", target: "aigw-production")
        guard case .failed(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("lost the Lease"))
        #expect(world.vault.current(World.path)?.version == 2, "the write before the loss stands")
        #expect(world.gitlab.retries.isEmpty, "no retry without the Lease")
        #expect(try await journal.openIntents().count == 1, "left open for the next leader")
        let reports = await ActionRunner(journal: journal, executors: [world.executor]).recover()
        #expect(reports.map(\.outcome) == [.deployed])
        #expect(world.gitlab.retries == [1] && world.vault.current(World.path)?.version == 2)
        let owned = try Ownership(metadata: world.vault.customMetadata(World.path))
        #expect(
            owned.pending == nil && owned.providers == ["vertex"] && owned.writtenVersion == 2,
            "the record is completed by whoever finished the action")
        await world.stop()
    }

    /// The leader dies after its write and before its retry; the next leader has an empty journal
    /// but finds the owed redeploy in the secret's metadata, journals it and retries once. The
    /// dead one, back later, follows that retry instead of retrying again.
    @Test func aNewLeaderWithAnEmptyJournalFinishesTheRedeployTheOldOneOwed() async throws {
        let world = try await World.start()
        try await world.crashingFailover(crashAt: "secret-written")
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: other) }
        let next = ActionRunner(journal: try Journal(path: other, clock: WallClock()), executors: [world.executor])
        #expect(await next.recover().isEmpty, "its own journal knows nothing")
        let settled = try #require(try await next.settle("aigw-production", healthy: ["vertex", "bedrock", "anthropic"]))
        #expect(settled.action == "failover" && settled.provider == "vertex")
        #expect(settled.report.outcome == .deployed)
        #expect(world.gitlab.retries == [1] && world.vault.current(World.path)?.version == 2)
        let history = try await Journal(path: other, clock: WallClock()).history()
        #expect(
            history.map(\.kind) == [
                "intent:failover", "step:secret-written", "step:deploy-decision", "step:job-retried", "step:downstream", "step:deployed",
                "result",
            ])
        #expect(history.last?.detail.hasPrefix("settled from the secret's metadata: deployed") == true)
        #expect(try await next.settle("aigw-production", healthy: ["vertex", "bedrock", "anthropic"]) == nil, "settled once")

        let oldLeaderBack = ActionRunner(journal: try Journal(path: world.journalPath, clock: WallClock()), executors: [world.executor])
        #expect(await oldLeaderBack.recover().map(\.outcome) == [.deployed])
        #expect(world.gitlab.retries == [1], "it follows the retry made by the other")
        await world.stop()
    }

    /// An intent stopped after its checks, before its write, is stale once another leader wrote since: it is closed,
    /// not carried out (a failover decided long ago must not undo a later restore).
    @Test func aStaleIntentIsAbandonedWhenTheSecretChangedSince() async throws {
        let world = try await World.start()
        try await world.crashingFailover(crashAt: "secret-written", beforeTheWrite: true)
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: other) }
        let next = ActionRunner(journal: try Journal(path: other, clock: WallClock()), executors: [world.executor])
        #expect(await next.run(.failover, provider: "vertex", target: "aigw-production").outcome == .deployed)
        #expect(await next.run(.restore, provider: "vertex", target: "aigw-production").outcome == .deployed)
        #expect(world.vault.current(World.path)?.version == 3)

        let journal = try Journal(path: world.journalPath, clock: WallClock())
        #expect(await ActionRunner(journal: journal, executors: [world.executor]).recover().isEmpty)
        #expect(world.vault.current(World.path)?.version == 3, "no failover from the stale intent")
        #expect(world.gitlab.retries.count == 2)
        #expect(try await journal.openIntents().isEmpty)
        #expect(
            try await journal.history().last?.detail.contains("abandoned after restart: the secret changed since (version 1 → 3)")
                == true)
        await world.stop()
    }
}
