import AgentConfig
import ControlAPI
import ControlSimulators
import Foundation
import GitLabClient
import Selection
import Testing

/// `plan`, `failover` and `restore` as an operator runs them, against simulated Vault and GitLab.
@Suite(.serialized) struct ControlCommandTests {
    let cli = ProbeCommandTests()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/aigw")
        .standardized.path
    static let path = "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS"
    static let original = #"{"duo_chat": ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6_bedrock", "claude_sonnet_4_6"]}"#

    /// A GitLab whose repository holds the fixtures' catalog files in every commit (what a target
    /// without a gateway URL plans within).
    static func gitlab() async throws -> GitLabSimulator {
        let gitlab = try await GitLabSimulator.start()
        for (file, path) in [
            ("models.yml", GitLabSettings.defaultCatalogFiles.models),
            ("unit_primitives.yml", GitLabSettings.defaultCatalogFiles.unitPrimitives),
        ] {
            gitlab.setFile(path, ref: "*", try String(contentsOfFile: fixtures + "/" + file, encoding: .utf8))
        }
        return gitlab
    }

    /// Vault holding the original override, and GitLab with one deploy pipeline at its branch head.
    func controlPlane() async throws -> (VaultSimulator, GitLabSimulator) {
        let vault = try await VaultSimulator.start()
        let gitlab = try await Self.gitlab()
        vault.put(Self.path, ["value": .string(Self.original)])
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true)])
        return (vault, gitlab)
    }

    /// A gateway serving the fixtures' catalog.
    func gateway() async throws -> GatewaySimulator {
        let catalog = try CatalogLoader.models(file: Self.fixtures + "/models.yml")
        let features = try CatalogLoader.features(file: Self.fixtures + "/unit_primitives.yml", catalog: catalog)
        return try await GatewaySimulator.start(image: GatewayImage(Planner(catalog: catalog, features: features)))
    }

    func config(vault: VaultSimulator, gitlab: GitLabSimulator, extra: String = "") throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID()).yml").path
        try """
        catalog:
          models: \(Self.fixtures)/models.yml
          unit_primitives: \(Self.fixtures)/unit_primitives.yml
        targets:
          - name: aigw-production
            mode: perform
            vault:
              address: \(vault.address)
              mount: runway
              path: \(Self.path)
              token_env: VAULT_TOKEN
            gitlab:
              url: \(gitlab.url)
              project: "42"
              deploy_job: '/^🛫 \\[ai-gateway\\] Trigger runway deployment production$/'
              expedited: true
              token_env: GITLAB_TOKEN
              poll_interval: 10ms
        \(extra)
        """.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func planFailoverAndRestoreRoundTrip() async throws {
        let (vault, gitlab) = try await controlPlane()
        let gateway = try await gateway()
        gitlab.onDeploy { [vault] in gateway.deploy(override: vault.current(Self.path)?.data["value"]?.string) }
        let file = try config(
            vault: vault, gitlab: gitlab, extra: "    gateway: {url: \(gateway.url), verify_timeout: 5s, poll_interval: 20ms}")
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]

        let (planStatus, plan, _) = try cli.run(["plan", "--config", file, "--failing", "bedrock"], environment: env)
        #expect(planStatus == 0)
        #expect(plan.contains(#"+ override ["claude_sonnet_4_6_vertex","claude_sonnet_4_6"]"#))
        let (_, planJSON, _) = try cli.run(["plan", "--config", file, "--failing", "vertex,bedrock", "--json"], environment: env)
        #expect(planJSON.contains(#""failing":["bedrock","vertex"]"#))

        let (dryStatus, dry, _) = try cli.run(["failover", "--config", file, "--provider", "bedrock"], environment: env)
        #expect(dryStatus == 0)
        #expect(dry.contains("checks passed; run again with --yes to failover"))
        #expect(vault.current(Self.path)?.version == 1 && gitlab.retries.isEmpty)

        let (status, out, _) = try cli.run(["failover", "--config", file, "--provider", "bedrock", "--yes"], environment: env)
        #expect(status == 0, "\(out)")
        #expect(out.contains("failover done; deploy job success"))
        #expect(out.contains("retried job #1 → new job #2"))
        #expect(out.contains("verified live: the gateway serves the new defaults"))
        #expect(
            vault.current(Self.path)?.data["value"]?.string?.contains(#""duo_chat":["claude_sonnet_4_6_vertex","claude_sonnet_4_6"]"#)
                == true)
        #expect(gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "expedited")

        let (restoreStatus, restored, _) = try cli.run(["restore", "--config", file, "--provider", "bedrock", "--yes"], environment: env)
        #expect(restoreStatus == 0, "\(restored)")
        #expect(vault.current(Self.path)?.data["value"]?.string == Self.original)
        #expect(vault.customMetadata(Self.path).isEmpty)
        #expect(gitlab.variables.isEmpty)
        #expect(gitlab.retries == [1], "the runbook's restore retries no job")
        #expect(restored.contains("restore written; no redeploy (restore_redeploy: false): the next deployment picks it up"))
        #expect(!out.contains(vault.token) && !out.contains(gitlab.token))
        await vault.stop()
        await gitlab.stop()
        await gateway.stop()
    }

    /// One model as the subject: only the features using it move; an unknown model is refused.
    @Test func aModelIsFailedOverAndRestoredAlone() async throws {
        let (vault, gitlab) = try await controlPlane()
        let file = try config(vault: vault, gitlab: gitlab)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]
        let (planStatus, plan, _) = try cli.run(
            ["plan", "--config", file, "--failing", "vertex/claude_sonnet_4_6_vertex", "--json"], environment: env)
        #expect(planStatus == 0)
        #expect(
            plan.contains(#""failing":["vertex\/claude_sonnet_4_6_vertex"]"#)
                || plan.contains(#""failing":["vertex/claude_sonnet_4_6_vertex"]"#), "\(plan)")
        let (status, out, _) = try cli.run(
            ["failover", "--config", file, "--provider", "vertex/claude_sonnet_4_6_vertex", "--yes"], environment: env)
        #expect(status == 0, "\(out)")
        let written = try ModelOverride.parse(vault.current(Self.path)?.data["value"]?.string ?? "")
        #expect(written["duo_chat"] == ["claude_sonnet_4_6_bedrock", "claude_sonnet_4_6"], "\(written.json)")
        #expect(written["code_generations"] != nil && written["code_generations"]?.contains("claude_sonnet_4_6_vertex") == false)
        #expect(written["generate_commit_message"] == nil, "Haiku on Vertex AI is not failing: left alone")
        let (restoreStatus, restored, _) = try cli.run(
            ["restore", "--config", file, "--provider", "vertex/claude_sonnet_4_6_vertex", "--yes"], environment: env)
        #expect(restoreStatus == 0, "\(restored)")
        #expect(vault.current(Self.path)?.data["value"]?.string == Self.original)
        let (refused, why, _) = try cli.run(
            ["failover", "--config", file, "--provider", "vertex/claude_sonnet_4_6", "--yes"], environment: env)
        #expect(refused == 1)
        #expect(why.contains("the catalog has no model claude_sonnet_4_6 on vertex"), "\(why)")
        await vault.stop()
        await gitlab.stop()
    }

    /// A deploy the gateway never shows: `not verified`, exit 1; without a gateway the CLI says unverified.
    @Test func aDeployTheGatewayNeverServesExits1() async throws {
        let (vault, gitlab) = try await controlPlane()
        let gateway = try await gateway()
        gateway.deploy(override: Self.original)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]
        let file = try config(
            vault: vault, gitlab: gitlab, extra: "    gateway: {url: \(gateway.url), verify_timeout: 300ms, poll_interval: 20ms}")
        let (status, out, _) = try cli.run(["failover", "--config", file, "--provider", "bedrock", "--yes"], environment: env)
        #expect(status == 1, "\(out)")
        #expect(
            out.contains(
                "not verified: after 0.3 seconds 1 of 1 gateway URL(s) still do not serve the plan: \(gateway.url): duo_chat serves "
                    + "claude_sonnet_4_6_vertex, claude_sonnet_4_6_bedrock, claude_sonnet_4_6"
            ), "\(out)")
        let (restoreStatus, _, _) = try cli.run(["restore", "--config", file, "--provider", "bedrock", "--yes"], environment: env)
        #expect(restoreStatus == 0)
        let plain = try config(vault: vault, gitlab: gitlab)
        let (again, unverified, _) = try cli.run(["failover", "--config", plain, "--provider", "bedrock", "--yes"], environment: env)
        #expect(again == 0 && unverified.contains("unverified: no gateway section for this target"), "\(unverified)")
        await vault.stop()
        await gitlab.stop()
        await gateway.stop()
    }

    @Test func refusalsExit1AndConfigErrorsExit2() async throws {
        let (vault, gitlab) = try await controlPlane()
        gitlab.pushCommit("deadbeef")
        let file = try config(vault: vault, gitlab: gitlab)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]
        let (status, out, _) = try cli.run(["failover", "--config", file, "--provider", "bedrock", "--yes"], environment: env)
        #expect(status == 1)
        #expect(out.contains("refused: main is at deadbeef, which has no pipeline yet (the newest, #7, is at f00dbabe)"), "\(out)")
        #expect(vault.current(Self.path)?.version == 1)
        let (noToken, _, noTokenErr) = try cli.run(["plan", "--config", file, "--failing", "vertex"], environment: [:])
        #expect(noToken == 2)
        #expect(noTokenErr.contains("environment variable VAULT_TOKEN is not set"))
        let (badTarget, _, badErr) = try cli.run(["plan", "--config", file, "--failing", "vertex", "--target", "nope"], environment: env)
        #expect(badTarget == 2)
        #expect(badErr.contains("no target 'nope' (there are: aigw-production)"))
        await vault.stop()
        await gitlab.stop()
    }
}
