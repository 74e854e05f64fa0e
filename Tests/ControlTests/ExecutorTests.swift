import Actions
import AgentConfig
import ControlAPI
import ControlSimulators
import Foundation
import GitLabClient
import HTTP
import Logging
import Selection
import Synchronization
import Telemetry
import Testing
import Timekeeping
import VaultClient

/// A target wired to simulated Vault and GitLab on 127.0.0.1.
struct Rig {
    static let path = "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS"
    static let original =
        #"{"code_completions": ["claude_sonnet_4_5_20250929"], "duo_chat": ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"]}"#
    static let deployJob = "🛫 [ai-gateway] Trigger runway deployment production"
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/aigw")
        .standardized.path

    let vault: VaultSimulator
    let gitlab: GitLabSimulator
    let client: HTTPClient
    let executor: TargetExecutor
    let logs: LogLines

    /// `restoreRedeploy` true: these tests follow the fast restore; the runbook's is in LoopClosingTests.
    static func start(expedited: Bool = true, environment: String? = nil, vaultToken: String? = nil, restoreRedeploy: Bool = true)
        async throws -> Rig
    {
        let vault = try await VaultSimulator.start(namespace: "runway")
        let gitlab = try await GitLabSimulator.start()
        vault.put(path, ["value": .string(original), "other": .string("kept")])
        gitlab.addPipeline(
            id: 100, sha: "aaaa1111",
            jobs: [
                .init(id: 1, name: "build"), .init(id: 2, name: "🛫 [ai-gateway] Trigger runway deployment staging", isBridge: true),
                .init(id: 3, name: deployJob, isBridge: true),
                // The same pipeline triggers the other services' deployments too.
                .init(id: 4, name: "🛫 [duo-workflow-svc] Trigger runway deployment production", isBridge: true),
                .init(id: 5, name: "🛫 [ai-gateway-custom] Trigger runway deployment production", isBridge: true),
            ])
        gitlab.setDeployed("aaaa1111", environment: "production")
        let catalog = try CatalogLoader.models(file: fixtures + "/models.yml")
        let planner = Planner(
            catalog: catalog, features: try CatalogLoader.features(file: fixtures + "/unit_primitives.yml", catalog: catalog))
        let target = Target(
            name: "aigw-production", mode: .perform,
            vault: VaultSettings(address: vault.address, namespace: "runway", path: path, token: .environment("VAULT_TOKEN")),
            gitlab: GitLabSettings(
                url: gitlab.url, project: "42", deployJob: .service("ai-gateway", environment: "production"), environment: environment,
                expedited: expedited, token: .environment("GITLAB_TOKEN"), pollInterval: .milliseconds(5)),
            restoreRedeploy: restoreRedeploy)
        let env = ["VAULT_TOKEN": vaultToken ?? vault.token, "GITLAB_TOKEN": gitlab.token]
        let client = HTTPClient()
        let logs = LogLines()
        let executor = TargetExecutor(
            target: target, planner: planner,
            vault: try VaultKV(
                settings: target.vault, client: client, environment: env, retries: 2, backoff: .milliseconds(5), clock: WallClock()),
            redeployer: Redeployer(
                gitlab: try GitLab(
                    settings: target.gitlab, client: client, environment: env, retries: 3, backoff: .milliseconds(5), clock: WallClock()),
                clock: WallClock()),
            logger: .forwarding { logs.append($0) })
        return Rig(vault: vault, gitlab: gitlab, executor: executor, logs: logs, client: client)
    }

    private init(vault: VaultSimulator, gitlab: GitLabSimulator, executor: TargetExecutor, logs: LogLines, client: HTTPClient) {
        self.vault = vault
        self.gitlab = gitlab
        self.executor = executor
        self.logs = logs
        self.client = client
    }

    func stop() async {
        client.shutdown()
        await vault.stop()
        await gitlab.stop()
    }

    var secret: (version: Int, value: String?, data: [String: JSONValue]) {
        let current = vault.current(Self.path)!
        return (current.version, current.data["value"]?.string, current.data)
    }
    var override: ModelOverride { try! ModelOverride.parse(secret.value ?? "") }
    var ownership: Ownership { try! Ownership(metadata: vault.customMetadata(Self.path)) }

    /// Another executor on the same Vault and GitLab, as another replica (or a restarted agent) has:
    /// every call gives up after `timeout`, retried `retries` times.
    func replica(timeout: Duration = .seconds(10), retries: Int = 2) throws -> TargetExecutor {
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]
        let target = executor.target
        return TargetExecutor(
            target: target, planner: executor.planner,
            vault: try VaultKV(
                settings: target.vault, client: client, environment: env, timeout: timeout, retries: retries, backoff: .milliseconds(5),
                clock: WallClock()),
            redeployer: Redeployer(
                gitlab: try GitLab(
                    settings: target.gitlab, client: client, environment: env, timeout: timeout, retries: retries,
                    backoff: .milliseconds(5), clock: WallClock()
                ), clock: WallClock()), logger: .forwarding { [logs] in logs.append($0) })
    }

    /// Nothing was written, retried or set.
    func untouched() -> Bool {
        secret.version == 1 && gitlab.retries.isEmpty && gitlab.variables.isEmpty && vault.customMetadata(Self.path).isEmpty
    }
}

final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite(.serialized) struct ExecutorTests {
    @Test func failoverThenRestoreLeavesTheSecretByteForByteAndTheVariableGone() async throws {
        let rig = try await Rig.start()
        let failover = await rig.executor.failover(provider: "vertex", apply: true)
        #expect(failover.outcome == .deployed)
        #expect(rig.secret.version == 2)
        #expect(rig.override["duo_chat"] == ["claude_sonnet_4_6"])
        #expect(rig.override["code_completions"] == ["claude_sonnet_4_5_20250929"])
        #expect(rig.override["code_generations"] == ["claude_sonnet_4_6_bedrock"])
        #expect(rig.secret.data["other"] == .string("kept"))
        #expect(rig.ownership.providers == ["vertex"])
        #expect(rig.ownership.baseVersion == 1 && rig.ownership.writtenVersion == 2)
        #expect(rig.gitlab.retries == [3], "the production bridge, once")
        #expect(rig.gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "expedited")

        let restore = await rig.executor.restore(provider: "vertex", apply: true)
        #expect(restore.outcome == .deployed)
        #expect(rig.secret.value == Rig.original, "byte for byte, spaces included")
        #expect(rig.secret.data["other"] == .string("kept"))
        #expect(rig.vault.customMetadata(Rig.path).isEmpty)
        #expect(rig.gitlab.variables.isEmpty)
        #expect(rig.gitlab.retries.count == 2)
        let again = await rig.executor.restore(provider: "vertex", apply: true)
        #expect(again.outcome == .nothingToDo("the agent has not failed vertex over on aigw-production"))
        await rig.stop()
    }

    @Test func everyWriteCarriesCheckAndSet() async throws {
        let rig = try await Rig.start()
        _ = await rig.executor.failover(provider: "vertex", apply: true)
        _ = await rig.executor.restore(provider: "vertex", apply: true)
        let writes = rig.vault.requests.filter { $0.method == "POST" && $0.uri.contains("/data/") }
        #expect(writes.count == 2)
        for write in writes { #expect(write.json?["options"]?["cas"]?.int != nil) }
        await rig.stop()
    }

    @Test func withoutYesNothingIsTouched() async throws {
        let rig = try await Rig.start()
        let report = await rig.executor.failover(provider: "vertex", apply: false)
        #expect(report.outcome == .planned)
        #expect(report.plan?.changes.isEmpty == false)
        #expect(rig.untouched())
        await rig.stop()
    }

    @Test func aStaleLatestPipelineIsRefusedBeforeAnyChange() async throws {
        let rig = try await Rig.start()
        rig.gitlab.pushCommit("bbbb2222")
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        guard case .refused(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("main is at bbbb2222, which has no pipeline yet (the newest, #100, is at aaaa1111)"), "\(why)")
        #expect(rig.untouched())
        await rig.stop()
    }

    @Test func anEnvironmentDeployedElsewhereIsRefused() async throws {
        let rig = try await Rig.start(environment: "production")
        rig.gitlab.setDeployed("9999zzzz", environment: "production")
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        guard case .refused(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("production runs 9999zzzz, which no pipeline of the deploy branch's last ones built"), "\(why)")
        #expect(rig.untouched())
        await rig.stop()
    }

    @Test func noMatchingJobIsRefused() async throws {
        let rig = try await Rig.start()
        rig.gitlab.addPipeline(id: 101, sha: "cccc3333", jobs: [.init(id: 10, name: "build")])
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        guard case .refused(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("no job or trigger job in pipeline #101 matches deploy_job (service ai-gateway, environment production)"))
        #expect(rig.untouched())
        await rig.stop()
    }

    /// A newer pipeline's production deploy is running (it read the secret before the write): the
    /// agent waits for it to end, then retries it, the image production then runs.
    @Test func aRunningNewerDeployIsWaitedForThenRetriedAndANonRetryableOneIsPutBack() async throws {
        let running = try await Rig.start()
        running.gitlab.deployRegularly(pipeline: 101, sha: "cccc3333", jobName: Rig.deployJob, downstream: "running")
        running.gitlab.setPollsToFinish(20)  // it runs on while the agent looks, then ends
        let report = await running.executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed, "\(report.outcome)")
        #expect(running.gitlab.retries == [6], "the newer pipeline's trigger, once it ended; never the older #100's")
        #expect(running.logs.all.contains { $0.contains("the production deploy of the newer pipeline #101 at cccc3333 is running") })
        await running.stop()

        let forbidden = try await Rig.start(expedited: false)
        forbidden.gitlab.addPipeline(id: 101, sha: "cccc3333", jobs: [.init(id: 10, name: Rig.deployJob, isBridge: true, retryable: false)])
        let refused = await forbidden.executor.failover(provider: "vertex", apply: true)
        guard case .refused(let reason) = refused.outcome else {
            Issue.record("\(refused.outcome)")
            return
        }
        #expect(reason.contains("Job is not retryable"))
        #expect(reason.contains("the secret was put back"))
        #expect(forbidden.secret.value == Rig.original)
        #expect(forbidden.vault.customMetadata(Rig.path).isEmpty)
        #expect(forbidden.gitlab.retries.isEmpty)
        await forbidden.stop()
    }

    @Test func aConcurrentHumanEditIsReReadAndKept() async throws {
        let rig = try await Rig.start()
        rig.vault.editBeforeNextWrite { data in
            data["value"] = .string(
                #"{"code_completions":["claude_sonnet_4_5_20250929"],"duo_chat":["claude_sonnet_4_6_vertex","claude_sonnet_4_6"],"#
                    + #""code_generations":["claude_sonnet_4_5_20250929"]}"#
            )
        }
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed)
        #expect(rig.logs.all.contains { $0.contains("the secret changed since it was read") })
        #expect(rig.secret.version == 3, "1 original, 2 the person's edit, 3 ours on top of it")
        #expect(rig.override["code_generations"] == ["claude_sonnet_4_5_20250929"], "the person's value has no failing model: kept")
        #expect(rig.override["duo_chat"] == ["claude_sonnet_4_6"])
        #expect(rig.gitlab.retries.count == 1)
        await rig.stop()
    }

    @Test func aHumanEditBetweenFailoverAndRestoreIsLeftAlone() async throws {
        let rig = try await Rig.start(expedited: false)
        _ = await rig.executor.failover(provider: "vertex", apply: true)
        var edited = rig.override
        edited["duo_chat"] = ["claude_sonnet_4_6_bedrock"]
        rig.vault.put(Rig.path, ["value": .string(edited.json), "other": .string("kept")])
        let report = await rig.executor.restore(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed)
        #expect(report.leftToPeople == ["duo_chat"])
        #expect(rig.override["duo_chat"] == ["claude_sonnet_4_6_bedrock"], "the person's value stays")
        #expect(rig.override["code_generations"] == nil, "the agent's own key is removed")
        #expect(rig.override["code_completions"] == ["claude_sonnet_4_5_20250929"])
        #expect(rig.ownership.isEmpty)
        await rig.stop()
    }

    @Test func whenPeopleChangedEveryOwnedKeyTheRestoreWritesAndRedeploysNothing() async throws {
        let rig = try await Rig.start(expedited: false)
        _ = await rig.executor.failover(provider: "vertex", apply: true)
        // A person undid the failover by hand: every key back as it was before.
        var edited = rig.override
        let owned = rig.ownership.keys.keys.sorted()
        #expect(!owned.isEmpty)
        for (key, value) in rig.ownership.keys { edited[key] = value.before }
        rig.vault.put(Rig.path, ["value": .string(edited.json)])
        let version = rig.secret.version
        let report = await rig.executor.restore(provider: "vertex", apply: true)
        guard case .nothingToDo(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("changed since by a person"))
        #expect(report.leftToPeople == owned)
        #expect(rig.secret.version == version, "no write")
        #expect(rig.gitlab.retries.count == 1, "no redeploy")
        #expect(rig.ownership.isEmpty, "let go")
        await rig.stop()
    }

    @Test func vaultAndGitLabFaultsAreRetried() async throws {
        let rig = try await Rig.start()
        rig.vault.failNext(2)
        rig.gitlab.rateLimitNext(2, retryAfter: 0)
        let first = await rig.executor.failover(provider: "vertex", apply: true)
        #expect(first.outcome == .deployed)
        rig.gitlab.rateLimitNext(1, retryAfter: nil)
        rig.gitlab.failNext(1, status: 502)
        let second = await rig.executor.restore(provider: "vertex", apply: true)
        #expect(second.outcome == .deployed)
        await rig.stop()
    }

    @Test func anUnreachableOrForbiddenVaultChangesNothing() async throws {
        let rig = try await Rig.start(vaultToken: "hvs.wrong")
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        guard case .failed(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("forbidden: the Vault token may not read"))
        #expect(!why.contains("hvs.wrong"))
        #expect(rig.untouched())
        rig.vault.failNext(10)
        let down = try await Rig.start()
        down.vault.failNext(10)
        let unavailable = await down.executor.failover(provider: "vertex", apply: true)
        guard case .failed(let reason) = unavailable.outcome else {
            Issue.record("\(unavailable.outcome)")
            return
        }
        #expect(reason.contains("HTTP 503 after 3 attempts"))
        await rig.stop()
        await down.stop()
    }

    @Test func malformedSecretJSONIsNeverOverwritten() async throws {
        let rig = try await Rig.start()
        rig.vault.put(Rig.path, ["value": .string(#"{"duo_chat": ["claude_sonnet_4_6_vertex""#)])
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        guard case .refused(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("is not valid override JSON"))
        #expect(rig.secret.version == 2)
        #expect(rig.gitlab.retries.isEmpty)
        await rig.stop()
    }

    @Test func aFailedDeployJobIsReported() async throws {
        let rig = try await Rig.start()
        rig.gitlab.setDeployOutcome("failed")
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        guard case .deployFailed(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("the downstream deploy pipeline #9001") && why.hasSuffix("ended failed"), "\(why)")
        #expect(report.downstream?.id == 9001 && report.downstream?.status == "failed")
        await rig.stop()
    }

    @Test func jobsAreFoundAcrossPages() async throws {
        let rig = try await Rig.start()
        rig.gitlab.setPageSize(2)
        rig.gitlab.addPipeline(
            id: 101, sha: "cccc3333",
            jobs: (10..<16).map { .init(id: $0, name: "bridge \($0)", isBridge: true) } + [
                .init(id: 16, name: Rig.deployJob, isBridge: true)
            ])
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed)
        #expect(rig.gitlab.retries == [16])
        #expect(rig.gitlab.requests.contains { $0.uri.contains("/trigger_jobs") && $0.uri.contains("page=4") })
        await rig.stop()
    }

    @Test func aSecondProviderAndAPartialRestore() async throws {
        let rig = try await Rig.start(expedited: false)
        _ = await rig.executor.failover(provider: "vertex", apply: true)
        _ = await rig.executor.failover(provider: "anthropic", apply: true)
        #expect(rig.ownership.providers == ["anthropic", "vertex"])
        #expect(rig.override["duo_chat"] == ["claude_sonnet_4_6_bedrock"])
        _ = await rig.executor.restore(provider: "vertex", apply: true)
        #expect(rig.override["duo_chat"] == ["claude_sonnet_4_6_vertex"], "anthropic is still out")
        _ = await rig.executor.restore(provider: "anthropic", apply: true)
        #expect(rig.override == (try ModelOverride.parse(Rig.original)))
        #expect(rig.ownership.isEmpty)
        await rig.stop()
    }
}
