import Config
import ConfigFiles
import Control
import Foundation
import Testing

@Suite struct TargetConfigTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy").standardized.path

    @Test func theShippedExampleLoadsThroughTheRealLoader() throws {
        let configuration = try AgentConfiguration.load(file: Self.deploy + "/config.example.yml")
        #expect(configuration.targets.map(\.name) == ["aigw-production", "aigw-staging"])
        let production = configuration.targets[0]
        #expect(production.mode == .propose)
        #expect(production.vault == VaultSettings(address: "https://vault.example.com", namespace: "runway", path: "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS", token: .environment("VAULT_TOKEN")))
        #expect(production.gitlab.matches(jobName: "🛫 [ai-gateway] Trigger runway deployment production"))
        #expect(production.gitlab.expedited && production.gitlab.environment == "production")
        #expect(configuration.targets[1].gitlab.matches(jobName: "🛫 [ai-gateway] Trigger runway deployment staging"))
        #expect(!configuration.targets[1].gitlab.matches(jobName: "Trigger runway deployment staging-canary"))
        let planner = try configuration.planner()
        #expect(planner.features.count == 6)
        #expect(configuration.policy.minHealthy == 180)
        #expect(configuration.agent.listenPort == 9464 && configuration.agent.proposalLifetime == 900 && configuration.agent.maxFailoversPerHour == 3)
        #expect(configuration.agent.probes.hasSuffix("deploy/../probes"))
        #expect(configuration.pagers.map(\.name) == ["pagerduty", "slack"])
    }

    @Test(arguments: [
        ("targets:\n  - name: t\n    vault: {address: https://v, path: p, token_env: A}\n    gitlab: {url: https://g, project: '1', deploy_job: x, token_env: B}\n", "agent.yml:1: targets need a catalog"),
        ("catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    mode: yolo\n", "targets[0].mode: 'yolo' is not propose or perform"),
        ("catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    vault: {address: https://v, path: p, token_env: A, token_file: B}\n    gitlab: {url: https://g, project: '1', deploy_job: x, token_env: B}\n", "needs exactly one of token_env or token_file"),
        ("catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    vault: {address: vault.example, path: p, token_env: A}\n    gitlab: {url: https://g, project: '1', deploy_job: x, token_env: B}\n", "targets[0].vault.address: 'vault.example' must start with https://"),
        ("catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    vault: {address: https://v, path: p, token_env: A}\n    gitlab: {url: https://g, project: '1', deploy_job: '/[/', token_env: B}\n", "is not a valid regular expression"),
    ])
    func badTargetsAreNamed(text: String, message: String) {
        do {
            _ = try AgentConfiguration.parse(YAMLFields.parse(text, file: "agent.yml"))
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains(message), "got \(error.description)")
        }
    }

    @Test func anUnknownModelInUnitPrimitivesIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "models:\n  - gitlab_identifier: a_vertex\n  - gitlab_identifier: mystery\n    model_class_provider: litellm\n".write(toFile: directory + "/models.yml", atomically: true, encoding: .utf8)
        do {
            _ = try CatalogLoader.models(file: directory + "/models.yml")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "\(directory)/models.yml:3: models[1].gitlab_identifier: cannot tell the provider of mystery: set it under catalog.providers in the agent config")
        }
        let catalog = try CatalogLoader.models(file: directory + "/models.yml", corrections: ["mystery": "openai"])
        #expect(catalog["mystery"]?.provider == "openai")
        try "configurable_unit_primitives:\n  - feature_setting: f\n    default_models: [a_vertex, nope]\n".write(toFile: directory + "/up.yml", atomically: true, encoding: .utf8)
        do {
            _ = try CatalogLoader.features(file: directory + "/up.yml", catalog: catalog)
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("up.yml:3: configurable_unit_primitives[0].default_models: unknown model nope"))
        }
    }
}
