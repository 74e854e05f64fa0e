import Actions
import AgentConfig
import ControlSimulators
import GatewayClient
import GitLabClient
import HTTP
import Selection
import Synchronization
import Testing
import Timekeeping
import VaultClient

/// Failing over while `main` moves, against a GitLab whose pipelines progress on their own and
/// whose deploys read the secret when they start: in every state of the pipelines the gateway
/// ends up serving the override, no deployment of an older SHA follows a newer one, no manual job
/// is played, and nothing is refused. The restore (with its own redeploy) the same way.
@Suite(.serialized) struct MovingMainTests {
    static let path = World.path
    static let original = World.original
    static let job = "🛫 [ai-gateway] Trigger runway deployment production"

    /// How `main` stands when an action starts.
    enum Main: String, CaseIterable, Sendable {
        /// The newest pipeline is what production runs (the quiet case).
        case headIsProduction
        /// A newer pipeline runs its tests; its production deploy starts a little later.
        case newerDeployPending
        /// A newer pipeline's production deploy is already running: it read the secret before the write.
        case newerDeployRunning
        /// `RUNWAY_PRODUCTION_AUTO_DEPLOY=false`: the newer pipeline's production trigger waits for a person.
        case manualProductionDeploys
        /// A newer pipeline's production deploy is about to start, and fails.
        case newerDeployFails

        /// Adds the newer pipeline (`id`), if any.
        func apply(_ gitlab: GitLabSimulator, id: Int) {
            let trigger = { (status: String) in
                var job = GitLabSimulator.SimJob(
                    id: id * 10, name: MovingMainTests.job, status: status, isBridge: true, environment: "production")
                job.startsAfter = 12  // its pipeline's tests run on while the agent plans and writes
                return job
            }
            switch self {
            case .headIsProduction: return
            case .newerDeployPending: gitlab.addPipeline(id: id, sha: "sha\(id)", jobs: [trigger("created")])
            case .newerDeployRunning:
                gitlab.deployRegularly(
                    pipeline: id, sha: "sha\(id)", jobName: MovingMainTests.job, environment: "production", downstream: "running")
            case .manualProductionDeploys: gitlab.addPipeline(id: id, sha: "sha\(id)", jobs: [trigger("manual")])
            case .newerDeployFails:
                gitlab.addPipeline(id: id, sha: "sha\(id)", jobs: [trigger("created")])
                gitlab.failDeploys(ofPipeline: id)
            }
            // A scheduled pipeline deploys nothing and is never "the latest".
            gitlab.addPipeline(id: id + 1, sha: "sha\(id)", source: "schedule", jobs: [])
        }
    }

    struct Rig {
        let vault: VaultSimulator
        let gitlab: GitLabSimulator
        let gateway: GatewaySimulator
        let client: HTTPClient
        let executor: TargetExecutor

        static func start() async throws -> Rig {
            let vault = try await VaultSimulator.start()
            let gitlab = try await GitLabSimulator.start()
            vault.put(MovingMainTests.path, ["value": .string(MovingMainTests.original)])
            let catalog = try CatalogLoader.models(file: World.fixtures + "/models.yml")
            let planner = Planner(
                catalog: catalog, features: try CatalogLoader.features(file: World.fixtures + "/unit_primitives.yml", catalog: catalog))
            let gateway = try await GatewaySimulator.start(image: GatewayImage(planner))
            gateway.deploy(override: MovingMainTests.original)
            // Production runs pipeline #7; every deploy copies the secret as it starts and serves that once live.
            gitlab.deployRegularly(pipeline: 7, sha: "sha7", jobName: MovingMainTests.job, environment: "production")
            gitlab.deploys(
                job: MovingMainTests.job, read: { [vault] in vault.current(MovingMainTests.path)?.data["value"]?.string },
                serve: { [gateway] in gateway.deploy(override: $0) })
            gitlab.setPollsToFinish(4)
            let target = Target(
                name: "aigw-production", mode: .perform,
                vault: VaultSettings(address: vault.address, path: MovingMainTests.path, token: .environment("V")),
                gitlab: GitLabSettings(
                    url: gitlab.url, project: "42", deployJob: .service("ai-gateway", environment: "production"), environment: "production",
                    expedited: true, token: .environment("G")),
                gateway: GatewaySettings(url: gateway.url), restoreRedeploy: true)
            let client = HTTPClient()
            let executor = try TargetExecutor(
                target: target, planner: planner, client: client, environment: ["V": vault.token, "G": gitlab.token], logger: .silent,
                clock: VirtualClock())
            return Rig(vault: vault, gitlab: gitlab, gateway: gateway, client: client, executor: executor)
        }

        func stop() async {
            client.shutdown()
            await vault.stop()
            await gitlab.stop()
            await gateway.stop()
        }

        /// Production's deployments never go back to an older pipeline.
        var deploymentsMoveForward: Bool {
            let pipelines = gitlab.deployments("production").compactMap(\.pipeline)
            return zip(pipelines, pipelines.dropFirst()).allSatisfy { $0 <= $1 }
        }
    }

    @Test(arguments: Main.allCases) func aFailoverAndItsRestoreReachProductionWhateverMainDoes(_ main: Main) async throws {
        let rig = try await Rig.start()
        main.apply(rig.gitlab, id: 8)
        let failover = await rig.executor.failover(provider: "vertex", apply: true)
        #expect(failover.outcome == .deployed && failover.verified == true, "\(failover.outcome)")
        #expect(rig.gateway.defaults(of: "duo_chat") == ["claude_sonnet_4_6"], "the gateway serves the override")
        #expect(rig.deploymentsMoveForward, "\(rig.gitlab.deployments("production"))")
        #expect(rig.gitlab.plays.isEmpty, "no manual job played")
        #expect(rig.gitlab.racingRetries.isEmpty, "no retry of an older pipeline while a newer deploy was pending or running")
        #expect(failover.deployDecision != nil)
        switch main {
        case .headIsProduction, .manualProductionDeploys: #expect(rig.gitlab.retries == [1], "production's own trigger, retried once")
        case .newerDeployPending: #expect(rig.gitlab.retries.isEmpty, "the newer deploy carried it: nothing retried")
        case .newerDeployRunning: #expect(rig.gitlab.retries == [2], "the newer pipeline's trigger, once its deploy had ended")
        case .newerDeployFails: #expect(rig.gitlab.retries == [1], "fell back on what production runs")
        }

        main.apply(rig.gitlab, id: 20)
        let restore = await rig.executor.restore(provider: "vertex", apply: true)
        #expect(restore.outcome == .deployed && restore.verified == true, "\(restore.outcome)")
        #expect(
            rig.gateway.defaults(of: "duo_chat") == ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"], "the gateway serves the restore")
        #expect(rig.vault.current(Self.path)?.data["value"]?.string == Self.original)
        #expect(rig.deploymentsMoveForward, "\(rig.gitlab.deployments("production"))")
        #expect(rig.gitlab.plays.isEmpty && rig.gitlab.variables.isEmpty && rig.gitlab.racingRetries.isEmpty)
        await rig.stop()
    }

    /// The newer pipeline's deploy fails: the agent falls back on the image production runs, and says so.
    @Test func aNewerDeployThatFailsIsFallenBackFromAndSaid() async throws {
        let rig = try await Rig.start()
        Main.newerDeployFails.apply(rig.gitlab, id: 8)
        var executor = rig.executor
        let steps = Mutex<[String]>([])
        executor.onStep = { step in steps.withLock { $0.append("\(step.name): \(step.detail)") } }
        let report = await executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed)
        let decisions = steps.withLock { $0 }.filter { $0.hasPrefix("deploy-decision:") }
        #expect(decisions.count == 2, "\(decisions)")
        #expect(decisions.first?.contains("newer pipeline #8") == true && decisions.first?.contains("following") == true, "\(decisions)")
        #expect(decisions.last?.contains("pipeline #7 at sha7 is what production runs") == true, "\(decisions)")
        #expect(decisions.last?.contains("production deploy failed: retrying the image production runs instead") == true, "\(decisions)")
        await rig.stop()
    }
}
