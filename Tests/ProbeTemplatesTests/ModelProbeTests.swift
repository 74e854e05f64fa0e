import AgentConfig
import Foundation
import HTTP
import ProbeResults
import ProbeTemplates
import Probing
import ProviderSimulators
import Selection
import Testing
import Timekeeping
import YAMLConfig

/// A catalog in the gateway's real shapes: a Vertex AI model at location `global` (under
/// `prompt_params`, as the gateway has it), a Bedrock id with `bedrock/` and `:0`, a Fireworks
/// router `identifier`, a Fireworks chat deployment, a `google_genai` Gemini, a Codestral
/// on Vertex AI and an embedding model (no template), a self-hosted model (unmanaged).
enum Fixture {
    static let models = """
        models:
          - {gitlab_identifier: claude_sonnet_4_6_vertex, model_class_provider: litellm, family: [claude_sonnet],
             params: {model: "claude-sonnet-4-6", custom_llm_provider: vertex_ai}, prompt_params: {vertex_location: global}}
          - {gitlab_identifier: claude_sonnet_4_6_bedrock, model_class_provider: litellm, family: [claude_sonnet],
             params: {model: "bedrock/global.anthropic.claude-sonnet-4-6-v1:0", custom_llm_provider: bedrock}}
          - {gitlab_identifier: claude_sonnet_4_6, model_class_provider: anthropic, family: [claude_sonnet],
             params: {model: "claude-sonnet-4-6"}}
          - {gitlab_identifier: gemini_2_5_flash_vertex, model_class_provider: google_genai, params: {model: "gemini-2.5-flash"}}
          - {gitlab_identifier: codestral_2508_fireworks, model_class_provider: litellm_completion, family: [codestral],
             params: {model: "codestral-2508", custom_llm_provider: fireworks_ai, identifier: "accounts/gitlab/routers/codestral-2508"}}
          - {gitlab_identifier: kimi_k2_fireworks, model_class_provider: litellm,
             params: {model: "accounts/gitlab/deployments/z6hbhxrt", custom_llm_provider: "fireworks_ai"}}
          - {gitlab_identifier: codestral_2508_vertex, model_class_provider: litellm_completion, family: [codestral],
             params: {model: "codestral-2", custom_llm_provider: vertex_ai}}
          - {gitlab_identifier: gpt_5_codex, model_class_provider: openai, params: {model: gpt-5-codex}}
          - {gitlab_identifier: text_embedding_005_vertex, model_class_provider: litellm_embedding,
             params: {model: text-embedding-005, custom_llm_provider: vertex_ai}}
          - {gitlab_identifier: llama3, model_class_provider: litellm, params: {model: llama3}}
        """
    static let features = """
        configurable_unit_primitives:
          - feature_setting: duo_chat
            default_models: [claude_sonnet_4_6_vertex]
            selectable_models: [claude_sonnet_4_6_vertex, claude_sonnet_4_6_bedrock, claude_sonnet_4_6]
          - feature_setting: code_completions
            default_models: [codestral_2508_fireworks]
            selectable_models: [codestral_2508_fireworks, codestral_2508_vertex]
          - feature_setting: comment_temperature
            default_models: [gemini_2_5_flash_vertex]
            selectable_models: [gemini_2_5_flash_vertex]
          - feature_setting: embeddings_code
            default_models: [text_embedding_005_vertex]
            selectable_models: [text_embedding_005_vertex]
          - feature_setting: self_hosted_chat
            default_models: [llama3]
          - feature_setting: duo_agent_platform_chat
            default_models: [kimi_k2_fireworks]
        """

    static func planner() throws -> Planner {
        let catalog = try CatalogLoader.models(YAMLFields.parse(models, file: "models.yml"))
        return Planner(
            catalog: catalog,
            features: try CatalogLoader.features(YAMLFields.parse(features, file: "unit_primitives.yml"), catalog: catalog))
    }

    /// An agent config with `model_probes` (written to a temporary file so relative paths work).
    static func configuration(_ modelProbes: String, agent: String = "") throws -> AgentConfiguration {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("model-probes-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try models.write(toFile: directory + "/models.yml", atomically: true, encoding: .utf8)
        try features.write(toFile: directory + "/unit_primitives.yml", atomically: true, encoding: .utf8)
        let text = "catalog: {models: models.yml, unit_primitives: unit_primitives.yml}\nmodel_probes:\n\(modelProbes)\n\(agent)"
        try text.write(toFile: directory + "/agent.yml", atomically: true, encoding: .utf8)
        return try AgentConfiguration.load(file: directory + "/agent.yml")
    }

    static let allProviders = """
          anthropic: {api_key_env: ANTHROPIC_KEY}
          vertex: {project: p1, location: us-east5, google_token: {command: "echo ya29.templates-test-c2b7"}}
          bedrock: {region: eu-west-1, access_key_id_env: AWS_KEY_ID, secret_access_key_env: AWS_SECRET}
          fireworks: {api_key_env: FIREWORKS_KEY, cost_per_probe: 0.000001}
          openai: {api_key_env: OPENAI_KEY}
        """
    static let environment = [
        "ANTHROPIC_KEY": "sk-ant-templates-test-3a8f", "AWS_KEY_ID": "AKIDTEMPLATESTEST", "AWS_SECRET": "wJalrXUtnFEMI-templates-test",
        "FIREWORKS_KEY": "fw-templates-test-7d1e", "OPENAI_KEY": "sk-templates-test-51c9",
    ]
}

@Suite struct ModelProbeTests {
    @Test func defaultsAndTheirReplacementsAreProbedOthersAreSaidWhyNot() throws {
        let planner = try Fixture.planner()
        let worth = planner.modelsToProbe()
        #expect(
            worth.filter { $0.reason == .serves }.map(\.model) == [
                "claude_sonnet_4_6_vertex", "gemini_2_5_flash_vertex", "codestral_2508_fireworks", "kimi_k2_fireworks",
                "text_embedding_005_vertex",
            ])
        #expect(
            worth.filter { $0.reason == .replaces }.map(\.model) == [
                "claude_sonnet_4_6_bedrock", "claude_sonnet_4_6", "codestral_2508_vertex",
            ])
        #expect(!worth.contains { $0.model == "llama3" || $0.model == "gpt_5_codex" }, "unmanaged, and used by no feature")
        let probes = try Fixture.configuration(Fixture.allProviders).modelProbes!
        let endpoints = probes.endpoints(planner)
        #expect(
            endpoints.filter { $0.skipped == nil }.map(\.model).sorted() == [
                "claude_sonnet_4_6", "claude_sonnet_4_6_bedrock", "claude_sonnet_4_6_vertex", "codestral_2508_fireworks",
                "gemini_2_5_flash_vertex", "kimi_k2_fireworks",
            ])
        let skipped = Dictionary(uniqueKeysWithValues: endpoints.compactMap { e in e.skipped.map { (e.model, $0) } })
        #expect(skipped["codestral_2508_vertex"]?.contains("Claude and Gemini only") == true)
        #expect(skipped["text_embedding_005_vertex"] == "an embedding model")
        #expect(endpoints.first { $0.model == "codestral_2508_fireworks" }?.costPerProbe == 0.000001)
    }

    @Test func eachProviderGetsItsSmallestRequest() throws {
        let planner = try Fixture.planner()
        let probes = try Fixture.configuration(Fixture.allProviders).modelProbes!
        let specs = Dictionary(uniqueKeysWithValues: try probes.specs(planner, environment: Fixture.environment).map { ($0.name, $0) })
        let vertex = try #require(specs["claude_sonnet_4_6_vertex"])
        #expect(
            vertex.url
                == "https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/anthropic/models/claude-sonnet-4-6:rawPredict"
        )
        #expect(vertex.body?.contains(#""anthropic_version":"vertex-2023-10-16","max_tokens":1"#) == true)
        #expect(vertex.subject == "vertex/claude_sonnet_4_6_vertex")
        let gemini = try #require(specs["gemini_2_5_flash_vertex"])
        #expect(gemini.url.hasSuffix("/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent"))
        #expect(gemini.url.hasPrefix("https://us-east5-aiplatform.googleapis.com/"))
        #expect(gemini.body?.contains(#""maxOutputTokens":1"#) == true)
        let bedrock = try #require(specs["claude_sonnet_4_6_bedrock"])
        #expect(bedrock.url == "https://bedrock-runtime.eu-west-1.amazonaws.com/model/global.anthropic.claude-sonnet-4-6-v1:0/converse")
        guard case .awsSigV4(let signer) = bedrock.auth else {
            Issue.record("Bedrock is signed with SigV4")
            return
        }
        #expect(signer.region == "eu-west-1" && signer.credentials.accessKeyID == "AKIDTEMPLATESTEST")
        let anthropic = try #require(specs["claude_sonnet_4_6"])
        #expect(anthropic.url == "https://api.anthropic.com/v1/messages")
        #expect(anthropic.headers.contains { $0.name == "x-api-key" && $0.value == "sk-ant-templates-test-3a8f" })
        #expect(anthropic.body == #"{"model":"claude-sonnet-4-6","max_tokens":1,"messages":[{"role":"user","content":"ping"}]}"#)
        let fireworks = try #require(specs["codestral_2508_fireworks"])
        #expect(fireworks.url == "https://api.fireworks.ai/inference/v1/completions")
        #expect(fireworks.body?.contains(#""model":"accounts/gitlab/routers/codestral-2508""#) == true)
        #expect(fireworks.body?.contains(#""prompt":"ping""#) == true, "Codestral (litellm_completion) is a completion")
        let chat = try #require(specs["kimi_k2_fireworks"])
        #expect(chat.url == "https://api.fireworks.ai/inference/v1/chat/completions", "a chat model is called through chat completions")
        #expect(chat.body?.contains(#""model":"accounts/gitlab/deployments/z6hbhxrt","max_tokens":1,"messages":"#) == true)
        #expect(anthropic.secrets.contains("sk-ant-templates-test-3a8f"), "the key is scrubbed from whatever the probe reports")
    }

    @Test func vertexLocationComesFromPromptParamsThenParamsAndDefaultsToGlobal() throws {
        let catalog = try CatalogLoader.models(
            YAMLFields.parse(
                """
                models:
                  - {gitlab_identifier: a_vertex, model_class_provider: litellm,
                     params: {model: claude-a, custom_llm_provider: vertex_ai}, prompt_params: {vertex_location: europe-west1}}
                  - {gitlab_identifier: b_vertex, model_class_provider: litellm,
                     params: {model: claude-b, custom_llm_provider: vertex_ai, vertex_location: us-east5}}
                  - {gitlab_identifier: c_vertex, model_class_provider: litellm, params: {model: claude-c, custom_llm_provider: vertex_ai}}
                """, file: "models.yml"))
        #expect(catalog["a_vertex"]?.serving.location == "europe-west1")
        #expect(catalog["b_vertex"]?.serving.location == "us-east5", "an older catalog's params.vertex_location is still read")
        #expect(catalog["c_vertex"]?.serving.location == nil)
        let features = try CatalogLoader.features(
            YAMLFields.parse(
                "configurable_unit_primitives:\n  - {feature_setting: f, default_models: [a_vertex, b_vertex, c_vertex]}\n",
                file: "unit_primitives.yml"), catalog: catalog)
        let probes = try Fixture.configuration(#"  vertex: {project: p1, google_token: {command: "echo ya29.t"}}"#).modelProbes!
        let specs = Dictionary(
            uniqueKeysWithValues: try probes.specs(Planner(catalog: catalog, features: features), environment: [:]).map { ($0.name, $0) })
        #expect(
            specs["a_vertex"]?.url.hasPrefix("https://europe-west1-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west1/")
                == true)
        #expect(specs["b_vertex"]?.url.hasPrefix("https://us-east5-aiplatform.googleapis.com/") == true)
        #expect(
            specs["c_vertex"]?.url
                == "https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/anthropic/models/claude-c:rawPredict",
            "no location anywhere: the gateway's default, global")
    }

    @Test func missingCredentialsAreNamedAtBuildTime() throws {
        let planner = try Fixture.planner()
        let probes = try Fixture.configuration(Fixture.allProviders).modelProbes!
        #expect(throws: (any Error).self) { try probes.specs(planner, environment: [:]) }
        do {
            _ = try probes.specs(planner, environment: [:])
        } catch {
            #expect(error.description.contains("ANTHROPIC_KEY") || error.description.contains("AWS_KEY_ID"))
        }
    }

    @Test(arguments: [
        ("  azure: {api_key_env: K}", "no probe template for 'azure'"),
        ("  vertex: {google_token: {command: x}}", "model_probes.vertex.project"),
        ("  bedrock: {access_key_id_env: A}", "needs access_key_id_env and secret_access_key_env"),
        ("  anthropic: {}", "needs exactly one of api_key_env or api_key_file"),
        ("  anthropic: {api_key_env: K, cost_per_probe: 2}", "cost_per_probe"),
    ])
    func badModelProbesAreRefusedWithTheirField(text: String, message: String) {
        do {
            _ = try Fixture.configuration(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func bedrockOnEKSUsesTemporaryCredentials() throws {
        let configuration = try Fixture.configuration(
            "  bedrock: {region: eu-west-1, web_identity: {role_arn: 'arn:aws:iam::123456789012:role/probes'}}")
        #expect(
            configuration.modelProbes?.providers["bedrock"]?.awsOrigin
                == .webIdentity(
                    AWSWebIdentity(
                        roleARN: "arn:aws:iam::123456789012:role/probes", tokenFile: AWSWebIdentity.eksTokenFile,
                        sessionName: "failover-agent", stsURL: "https://sts.eu-west-1.amazonaws.com")))
        let pod = try Fixture.configuration("  bedrock: {container_credentials: {token_file: /run/token}}")
        #expect(
            pod.modelProbes?.providers["bedrock"]?.awsOrigin == .container(url: AWSCredentialOrigin.podIdentityURL, tokenFile: "/run/token")
        )
    }

    @Test func theBudgetStretchesReplacementsFirstAndAnUnreachableOneIsRefused() throws {
        let planner = try Fixture.planner()
        // 5 endpoints: 4 at the estimate $0.00002 or $0.00003, Fireworks at $0.000001; every 5 s.
        let free = try ProbeSet.build(try Fixture.configuration(Fixture.allProviders), planner: planner, handWritten: [], environment: nil)
        let total = free.entries.reduce(0) { $0 + $1.perDay }
        #expect(free.entries.allSatisfy { $0.interval == 5 })
        let capped = try ProbeSet.build(
            try Fixture.configuration(Fixture.allProviders, agent: "agent: {max_probe_cost_per_day: \(total * 0.7)}"), planner: planner,
            handWritten: [], environment: nil)
        #expect(abs(capped.entries.reduce(0) { $0 + $1.perDay } - total * 0.7) < 1e-6)
        for entry in capped.entries {
            #expect(entry.why == "replaces" ? entry.interval > 5 : entry.interval == 5, "\(entry.name) every \(entry.interval) s")
        }
        #expect(capped.stretch(steady: 5)["claude_sonnet_4_6"]! > 0)
        #expect(throws: ConfigError.self) {
            try ProbeSet.build(
                try Fixture.configuration(Fixture.allProviders, agent: "agent: {max_probe_cost_per_day: 0.0001}"), planner: planner,
                handWritten: [], environment: nil)
        }
    }

    @Test func aHandWrittenSpecForAModelMustNameAModelOfItsProvider() throws {
        let planner = try Fixture.planner()
        let configuration = try Fixture.configuration(Fixture.allProviders)
        let good = ProbeSpec(provider: "vertex", name: "sonnet-us-east5", model: "claude_sonnet_4_6_vertex", url: "https://x")
        let set = try ProbeSet.build(configuration, planner: planner, handWritten: [good], environment: nil)
        #expect(set.entries.first { $0.name == "sonnet-us-east5" }?.subject == "vertex/claude_sonnet_4_6_vertex")
        let wrong = ProbeSpec(provider: "bedrock", name: "w", model: "claude_sonnet_4_6_vertex", url: "https://x")
        #expect(throws: ConfigError.self) { try ProbeSet.build(configuration, planner: planner, handWritten: [wrong], environment: nil) }
    }

    /// Derived probes reach a simulated provider through `base_url` and are classed like any spec.
    @Test(arguments: [
        (ProviderFlavor.anthropic, "claude_sonnet_4_6"), (.bedrock, "claude_sonnet_4_6_bedrock"), (.vertex, "claude_sonnet_4_6_vertex"),
    ])
    func derivedProbesAreClassedOnTheWire(flavor: ProviderFlavor, model: String) async throws {
        let simulator = try await ProviderSimulator.start(flavor)
        let client = HTTPClient()
        defer { client.shutdown() }
        let providers = Fixture.allProviders.split(separator: "\n").map { line -> String in
            let text = String(line)
            guard text.contains("\(flavor.rawValue):"), let brace = text.firstIndex(of: "{") else { return text }
            return text[..<brace] + "{base_url: \"\(simulator.baseURL)\", " + text[text.index(after: brace)...]
        }.joined(separator: "\n")
        let planner = try Fixture.planner()
        let specs = try Fixture.configuration(providers).modelProbes!.specs(planner, environment: Fixture.environment)
        let spec = try #require(specs.first { $0.name == model })
        let ok = await Prober(client: client, clock: WallClock()).probe(spec)
        simulator.set(.answer(.overloaded))
        let overloaded = await Prober(client: client, clock: WallClock()).probe(spec)
        let requests = simulator.requests
        await simulator.stop()
        #expect(ok.resultClass == .ok, "\(ok)")
        #expect(overloaded.resultClass == .overloaded)
        let first = try #require(requests.first)
        #expect(first.method == "POST")
        switch flavor {
        case .bedrock:
            #expect(first.uri == "/model/global.anthropic.claude-sonnet-4-6-v1%3A0/converse")
            #expect(first.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDTEMPLATESTEST/") == true)
        case .vertex:
            #expect(first.uri.hasSuffix("/publishers/anthropic/models/claude-sonnet-4-6:rawPredict"))
            #expect(first.header("authorization") == "Bearer ya29.templates-test-c2b7")
        default:
            #expect(first.uri == "/v1/messages" && first.header("x-api-key") == "sk-ant-templates-test-3a8f")
        }
    }

    /// `api_key_file`: a rotated key is sent from the next probe on, with no restart.
    @Test func aRotatedKeyFileIsReadAtTheNextProbe() async throws {
        let simulator = try await ProviderSimulator.start(.anthropic)
        let client = HTTPClient()
        defer { client.shutdown() }
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("anthropic-key-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        try "sk-ant-first".write(toFile: keyFile, atomically: true, encoding: .utf8)
        let configuration = try Fixture.configuration("  anthropic: {base_url: \"\(simulator.baseURL)\", api_key_file: \(keyFile)}")
        let specs = try configuration.modelProbes!.specs(try Fixture.planner(), environment: [:])
        let spec = try #require(specs.first { $0.name == "claude_sonnet_4_6" })
        #expect(await Prober(client: client, clock: WallClock()).probe(spec).resultClass == .ok)
        try "sk-ant-rotated-key".write(toFile: keyFile, atomically: true, encoding: .utf8)
        #expect(await Prober(client: client, clock: WallClock()).probe(spec).resultClass == .ok)
        try FileManager.default.removeItem(atPath: keyFile)
        let gone = await Prober(client: client, clock: WallClock()).probe(spec)
        #expect(gone.resultClass == .auth && gone.detail?.contains("cannot read token file") == true)
        #expect(simulator.requests.map { $0.header("x-api-key") } == ["sk-ant-first", "sk-ant-rotated-key"])
        await simulator.stop()
    }

    @Test func aDerivedStreamingProbeReadsTheStream() async throws {
        let simulator = try await ProviderSimulator.start(.anthropic, outcome: .stream(.overloaded))
        let client = HTTPClient()
        defer { client.shutdown() }
        let planner = try Fixture.planner()
        let configuration = try Fixture.configuration(
            "  anthropic: {api_key_env: ANTHROPIC_KEY, stream: true, base_url: \"\(simulator.baseURL)\"}")
        let spec = try #require(try configuration.modelProbes!.specs(planner, environment: Fixture.environment).first)
        let result = await Prober(client: client, clock: WallClock()).probe(spec)
        let body = simulator.requests.first?.bodyText ?? ""
        await simulator.stop()
        #expect(spec.stream && body.contains(#""stream":true"#))
        #expect(result.resultClass == .overloaded, "an overloaded_error event inside the 200 stream")
    }

    @Test func aDerivedBedrockStreamReadsConverseStreamFraming() async throws {
        let simulator = try await ProviderSimulator.start(.bedrock, outcome: .stream(.rateLimited))
        let client = HTTPClient()
        defer { client.shutdown() }
        let configuration = try Fixture.configuration(
            "  bedrock: {access_key_id_env: AWS_KEY_ID, secret_access_key_env: AWS_SECRET, stream: true, base_url: \"\(simulator.baseURL)\"}"
        )
        let specs = try configuration.modelProbes!.specs(try Fixture.planner(), environment: Fixture.environment)
        let spec = try #require(specs.first { $0.name == "claude_sonnet_4_6_bedrock" })
        #expect(spec.url.hasSuffix("/model/global.anthropic.claude-sonnet-4-6-v1:0/converse-stream"))
        let throttled = await Prober(client: client, clock: WallClock()).probe(spec)
        simulator.set(.stream(.ok))
        let ok = await Prober(client: client, clock: WallClock()).probe(spec)
        await simulator.stop()
        #expect(throttled.resultClass == .rateLimited, "a throttlingException inside the 200: \(throttled.jsonLine)")
        #expect(throttled.detail?.hasPrefix("throttlingException") == true)
        #expect(ok.resultClass == .ok, "\(ok.jsonLine)")
    }
}
