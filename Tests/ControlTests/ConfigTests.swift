import AgentConfig
import Foundation
import GatewayClient
import GitLabClient
import Testing
import VaultClient
import YAMLConfig

/// A valid target, for the cases that add one bad field to it.
private let targetYAML =
    "catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    vault: {address: https://v, path: p, token_env: A}\n  "
    + "  gitlab: {url: https://g, project: '1', deploy_job: d, token_env: B}\n"

@Suite struct TargetConfigTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy").standardized.path

    /// Configurations that could never work are refused at load, naming the fields and the smallest working value.
    @Test func whatCanNeverRestoreOrVerifyIsRefused() throws {
        func problem(_ yaml: String) -> String {
            do {
                _ = try AgentConfiguration.parse(YAMLFields.parse(targetYAML + yaml, file: "agent.yml"))
                return ""
            } catch { return "\(error)" }
        }
        let restore = problem("policy: {min_healthy: 15s}\n")
        #expect(restore.contains("min_healthy"), "\(restore)")
        #expect(restore.contains("at most 15 probes of an endpoint at probe_cap_per_endpoint 60 a minute"), "\(restore)")
        #expect(restore.contains("restore_error_rate 0.1") && restore.contains("min_healthy must be at least 49s"), "\(restore)")
        let lowered = problem("policy: {min_healthy: 60s, probe_cap_per_endpoint: 30}\n")
        #expect(lowered.contains("min_healthy must be at least 98s"), "a lowered cap needs a longer min_healthy: \(lowered)")
        #expect(problem("policy: {min_healthy: 49s}\n").isEmpty, "the smallest working value loads")
        #expect(problem("policy: {min_healthy: 60s, restore_error_rate: 0.2}\n").isEmpty)
        let verify = problem("    gateway: {url: https://gw, verify_timeout: 20s, poll_interval: 10s, agreeing_polls: 3}\n")
        #expect(verify.contains("verify_timeout") && verify.contains("agreeing_polls (3) × poll_interval (10.0 seconds)"), "\(verify)")
    }

    @Test func theShippedExampleLoadsThroughTheRealLoader() throws {
        let configuration = try AgentConfiguration.load(file: Self.deploy + "/config.example.yml")
        #expect(configuration.targets.map(\.name) == ["aigw-production", "aigw-staging"])
        let production = configuration.targets[0]
        #expect(production.mode == .propose)
        #expect(
            production.vault
                == VaultSettings(
                    address: "https://vault.example.com", namespace: "runway",
                    path: "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS", token: .environment("VAULT_TOKEN")))
        #expect(production.gitlab.matches(jobName: "🛫 [ai-gateway] Trigger runway deployment production"))
        #expect(!production.gitlab.matches(jobName: "🛫 [duo-workflow-svc] Trigger runway deployment production"))
        #expect(!production.gitlab.matches(jobName: "🛫 [ai-gateway-custom] Trigger runway deployment production"))
        #expect(production.gitlab.project.hasPrefix("gitlab-org/security/"), "the trigger jobs are in the security mirror")
        #expect(production.gitlab.expeditedScope == "*")
        #expect(production.gitlab.expedited && production.gitlab.environment == "production")
        #expect(
            production.changeRequest
                == ChangeRequestSettings(
                    project: "gitlab-com/gl-infra/production", labels: ["change", "change::in-progress", "failover-agent"]))
        #expect(
            production.gateway
                == GatewaySettings(
                    urls: ["https://ai-gateway.example.com", "https://us-east4.ai-gateway.example.com"], token: .environment("AIGW_TOKEN"),
                    verifyTimeout: .seconds(900), agreeingPolls: 3))
        #expect(!production.restoreRedeploy && configuration.targets[1].changeRequest == nil && configuration.targets[1].gateway == nil)
        #expect(configuration.targets[1].gitlab.matches(jobName: "🛫 [ai-gateway] Trigger runway deployment staging"))
        #expect(!configuration.targets[1].gitlab.matches(jobName: "Trigger runway deployment staging-canary"))
        #expect(!configuration.targets[1].gitlab.matches(jobName: "🛫 [duo-workflow-svc] Trigger runway deployment staging"))
        let planner = try configuration.planner()
        #expect(planner.features.count == 11)
        #expect(planner.prefer == ["bedrock", "vertex", "anthropic"])
        #expect(configuration.policy.minHealthy == 180)
        #expect(
            configuration.agent.listenPort == 9464 && configuration.agent.proposalLifetime == 900
                && configuration.agent.maxFailoversPerHour == 3)
        #expect(configuration.agent.probes.hasSuffix("deploy/../probes"))
        #expect(configuration.pagers.map(\.name) == ["pagerduty", "slack"])
        #expect(configuration.agent.logFormat == .text)
        #expect(
            try AgentConfiguration.load(file: Self.deploy + "/examples/production.yml").groups == [
                "production": ["aigw-production", "dws-production"]
            ])
        #expect(try AgentConfiguration.parse(YAMLFields.parse("agent: {log_format: json}\n", file: "a.yml")).agent.logFormat == .json)
    }

    @Test(
        arguments: [
            (
                "targets:\n  - name: t\n    vault: {address: https://v, path: p, token_env: A}\n    gitlab: {url: https://g, project: '1', "
                    + "deploy_job: x, token_env: B}\n",
                "agent.yml:1: targets need a catalog"
            ),
            (targetYAML + "    mode: yolo\n", "targets[0].mode: 'yolo' is not one of propose, perform"),
            ("agent:\n  log_format: yaml\n", "agent.yml:2: agent.log_format: 'yaml' is not one of text, json"),
            (
                "catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    vault: {address: https://v, path: p, "
                    + "token_env: A, token_file: B}\n    gitlab: {url: https://g, project: '1', deploy_job: x, token_env: B}\n",
                "needs exactly one of token_env or token_file"
            ),
            (
                "catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    vault: {address: vault.example, path: p, "
                    + "token_env: A}\n    gitlab: {url: https://g, project: '1', deploy_job: x, token_env: B}\n",
                "targets[0].vault.address: 'vault.example' must start with https://"
            ),
            (
                "catalog: {models: m.yml, unit_primitives: u.yml}\ntargets:\n  - name: t\n    vault: {address: https://v, path: p, "
                    + "token_env: A}\n    gitlab: {url: https://g, project: '1', deploy_job: '/^[$/', token_env: B}\n",
                "is not a valid regular expression"
            ),
            (
                targetYAML.replacingOccurrences(of: "deploy_job: d", with: "deploy_job: '/Trigger runway deployment production$/'"),
                "targets[0].gitlab.deploy_job: '/Trigger runway deployment production$/' is not anchored"
            ),
            (
                targetYAML.replacingOccurrences(of: "deploy_job: d", with: "deploy_job: {service: ai-gateway}"),
                "targets[0].gitlab.deploy_job.environment"
            ),
            (
                targetYAML.replacingOccurrences(
                    of: "deploy_job: d", with: "deploy_job: {service: ai-gateway, environment: production, stage: x}"),
                "stage"
            ),
            (targetYAML + "    gateway: {url: https://gw, urls: [https://gw2]}\n", "targets[0].gateway needs exactly one of url or urls"),
            (targetYAML + "    gateway: {urls: [https://gw, gw2]}\n", "targets[0].gateway.urls: 'gw2' must start with https://"),
            (targetYAML + "    gateway: {urls: [https://gw, https://gw]}\n", "a URL is listed twice"),
            (
                targetYAML + "    gateway: {url: https://gw, agreeing_polls: 0}\n",
                "targets[0].gateway.agreeing_polls: must be between 1 and 20"
            ),
            (
                targetYAML + "    gateway: {url: ftp://gw}\n",
                "agent.yml:6: targets[0].gateway.url: 'ftp://gw' must start with https:// or http://"
            ),
            (
                targetYAML + "    gateway: {url: https://gw, token_env: A, token_file: f}\n",
                "targets[0].gateway needs exactly one of token_env or token_file"
            ),
            (targetYAML + "    gateway: {url: https://gw, verify_timeout: soon}\n", "targets[0].gateway.verify_timeout"),
            (
                targetYAML + "    group: g\n"
                    + targetYAML.components(separatedBy: "targets:\n")[1].replacingOccurrences(of: "name: t", with: "name: u")
                    + "    group: g\n    mode: perform\n",
                "targets[1].mode: 'perform' differs from 'propose' of t in group g"
            ),
            (targetYAML + "    group: t\n", "targets[0].group: 't' is also a target's name"),
            (targetYAML + "    change_request: {labels: [x]}\n", "targets[0].change_request.project"),
            (targetYAML + "    change_request: {project: p, assignee: me}\n", "assignee"),
            (targetYAML + "    restore_redeploy: sometimes\n", "targets[0].restore_redeploy"),
            (
                targetYAML.replacingOccurrences(of: "token_env: A}", with: "token_env: A, auth: {role: r}}"),
                "targets[0].vault needs exactly one of token_env, token_file or auth"
            ),
            (
                targetYAML.replacingOccurrences(of: "token_env: A}", with: "auth: {method: ldap, role: r}}"),
                "targets[0].vault.auth.method: 'ldap' is not one of kubernetes, jwt"
            ),
            (targetYAML.replacingOccurrences(of: "token_env: A}", with: "auth: {}}"), "missing required field targets[0].vault.auth.role"),
        ] as [(String, String)])
    func badTargetsAreNamed(text: String, message: String) {
        do {
            _ = try AgentConfiguration.parse(YAMLFields.parse(text, file: "agent.yml"))
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains(message), "got \(error.description)")
        }
    }

    @Test func aVaultLoginIsReadWithItsDefaults() throws {
        let text = targetYAML.replacingOccurrences(of: "token_env: A}", with: "auth: {role: failover-agent}}")
        let configuration = try AgentConfiguration.parse(YAMLFields.parse(text, file: "/etc/agent/agent.yml"))
        #expect(
            configuration.targets.first?.vault.auth
                == .login(
                    VaultLogin(method: .kubernetes, mount: "kubernetes", role: "failover-agent", jwtFile: VaultLogin.serviceAccountToken)))
        let jwt = targetYAML.replacingOccurrences(
            of: "token_env: A}", with: "auth: {method: jwt, mount: oidc-ci, role: r, jwt_file: id-token}}")
        #expect(
            try AgentConfiguration.parse(YAMLFields.parse(jwt, file: "/etc/agent/agent.yml")).targets.first?.vault.auth
                == .login(VaultLogin(method: .jwt, mount: "oidc-ci", role: "r", jwtFile: "/etc/agent/id-token")))
    }

    /// `catalog.providers` and `catalog.prefer` take the agent's provider names only, and name only models that exist.
    @Test(arguments: [
        (
            "providers: {claude_sonnet_4_6_vertex: vertex_ai}",
            "agent.yml:4: catalog.providers.claude_sonnet_4_6_vertex: 'vertex_ai' is not a provider name: write vertex"
        ),
        (
            "providers: {claude_sonnet_4_6_vertex: gcp}",
            "catalog.providers.claude_sonnet_4_6_vertex: 'gcp' is not a provider name (known: anthropic, azure, bedrock"
        ),
        ("prefer: [bedrock, fireworks_ai]", "catalog.prefer: 'fireworks_ai' is not a provider name: write fireworks"),
        (
            "providers: {no_such_model: bedrock}",
            "agent.yml:4: catalog.providers.no_such_model: unknown model no_such_model (not in models.yml)"
        ),
    ])
    func catalogCorrectionsAreChecked(line: String, message: String) throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/aigw")
            .standardized.path
        let text = "catalog:\n  models: \(fixtures)/models.yml\n  unit_primitives: \(fixtures)/unit_primitives.yml\n  \(line)\n"
        do {
            _ = try AgentConfiguration.parse(YAMLFields.parse(text, file: "agent.yml")).planner()
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains(message), "got \(error.description)")
        }
    }

    @Test func anUnknownModelInUnitPrimitivesIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "models:\n  - gitlab_identifier: a_vertex\n  - gitlab_identifier: mystery\n    model_class_provider: litellm\n".write(
            toFile: directory + "/models.yml", atomically: true, encoding: .utf8)
        #expect(try CatalogLoader.models(file: directory + "/models.yml")["mystery"]?.isManaged == false, "unmanaged, not refused")
        let catalog = try CatalogLoader.models(file: directory + "/models.yml", corrections: ["mystery": "openai"])
        #expect(catalog["mystery"]?.provider == "openai")
        try "configurable_unit_primitives:\n  - feature_setting: f\n    default_models: [a_vertex, nope]\n".write(
            toFile: directory + "/up.yml", atomically: true, encoding: .utf8)
        do {
            _ = try CatalogLoader.features(file: directory + "/up.yml", catalog: catalog)
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("up.yml:3: configurable_unit_primitives[0].default_models: unknown model nope"))
        }
    }
}
