import AgentConfig
import Foundation
import Selection
import Testing

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/aigw")
        .standardized.path
    static let planner: Planner = {
        let catalog = try! CatalogLoader.models(file: directory + "/models.yml")
        return Planner(catalog: catalog, features: try! CatalogLoader.features(file: directory + "/unit_primitives.yml", catalog: catalog))
    }()
}

@Suite struct CatalogTests {
    @Test func providersComeFromCustomLLMProviderThenClassThenSuffix() {
        let catalog = Fixtures.planner.catalog
        #expect(catalog["claude_sonnet_4_6_vertex"]?.provider == "vertex")
        #expect(catalog["claude_sonnet_4_6_bedrock"]?.provider == "bedrock")
        #expect(catalog["claude_sonnet_4_6"]?.provider == "anthropic")
        #expect(catalog["codestral_2508_fireworks"]?.provider == "fireworks")
        #expect(catalog["text_embedding_005_vertex"]?.provider == "vertex")
        #expect(ModelCatalog.provider(id: "x_bedrock", modelClassProvider: "litellm", customLLMProvider: nil) == "bedrock")
        #expect(ModelCatalog.provider(id: "gpt", modelClassProvider: "openai", customLLMProvider: nil) == "openai")
        #expect(ModelCatalog.provider(id: "mystery", modelClassProvider: "litellm", customLLMProvider: nil) == nil)
    }

    @Test func theSameModelIsToldByParamsModelOrTheIdStem() {
        #expect(
            ModelCatalog.sameModel(paramsModel: "bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0") == "claude-sonnet-4-5-20250929")
        #expect(ModelCatalog.sameModel(paramsModel: "claude-sonnet-4-5@20250929") == "claude-sonnet-4-5-20250929")
        #expect(ModelCatalog.sameModel(paramsModel: "bedrock/global.anthropic.claude-opus-4-6-v1") == "claude-opus-4-6")
        #expect(ModelCatalog.stem(id: "codestral_2508_fireworks") == "codestral_2508")
        let catalog = Fixtures.planner.catalog
        #expect(catalog["claude_opus_4_6_20260205"]?.sameModel == catalog["claude_opus_4_6_bedrock"]?.sameModel)
        #expect(catalog["claude_sonnet_4_6_vertex"]?.family == ["claude"])
    }

    /// Every quirk of the real files loads with no correction: self-hosted models and amazon_q are
    /// unmanaged, google_genai is Vertex AI, a litellm prefix or the suffix tells the rest.
    @Test func theRealFilesQuirksLoadWithoutCorrections() {
        let catalog = Fixtures.planner.catalog
        #expect(catalog.unmanaged.map(\.id) == ["mistral", "llama3", "general", "amazon_q"])
        #expect(catalog["gemini_3_1_pro_preview_vertex"]?.provider == "vertex")
        #expect(catalog["gemini_1_5_flash"]?.provider == "vertex")
        #expect(catalog["gemini_2_5_flash_vertex"]?.provider == "vertex")
        #expect(catalog["devstral_2_mistral"]?.provider == "mistral")
        #expect(catalog["gpt_5_mini"]?.provider == "openai")
        let tagged = Fixtures.planner.features.first { $0.setting == "duo_agent_platform_agentic_chat" }
        #expect(tagged?.modelsForTags.map(\.tag) == ["small", "large"], "models_for_size_preference is read")
    }
}

@Suite struct PlannerTests {
    let planner = Fixtures.planner

    /// The runbook's example: duo_chat with three defaults, Bedrock failing: the other two stay, in order.
    @Test func theRunbookExampleKeepsTheOtherTwo() throws {
        let current = try ModelOverride.parse(
            #"{"duo_chat": ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6_bedrock", "claude_sonnet_4_6"]}"#)
        let plan = planner.plan(current: current, failing: ["bedrock"])
        #expect(plan.override["duo_chat"] == ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"])
        let commit = try #require(plan.changes.first { $0.feature == "generate_commit_message" })
        #expect(commit.before == nil)
        #expect(commit.after == ["claude_haiku_4_5_20251001_vertex", "claude_haiku_4_5_20251001"])
        #expect(plan.changes.count == 2)
        #expect(planner.validate(plan.override).isEmpty)
    }

    @Test func aLoneFailingModelIsReplacedByTheSameModelOnAHealthyProvider() {
        let plan = planner.plan(current: ModelOverride(), failing: ["vertex"])
        #expect(plan.override["duo_chat"] == ["claude_sonnet_4_6_bedrock"])
        #expect(plan.override["code_generations"] == ["claude_sonnet_4_6_bedrock"])
        #expect(plan.override["duo_agent_platform_agentic_chat"] == ["claude_sonnet_4_6"])
        #expect(
            plan.changes.first { $0.feature == "duo_chat" }?.reason.contains("use claude_sonnet_4_6_bedrock, the same model on bedrock")
                == true)
        #expect(planner.validate(plan.override).isEmpty)
    }

    @Test func aFeatureWithNoHealthyModelIsLeftAloneWithAReason() {
        let plan = planner.plan(current: ModelOverride(), failing: ["vertex"])
        #expect(plan.override["embeddings_code"] == nil)
        #expect(plan.untouched.map(\.feature) == ["embeddings_code", "measure_comment_temperature"])
        #expect(plan.untouched.first?.reason == "its only selectable model is text_embedding_005_vertex: no failover is possible")
        let both = planner.plan(current: ModelOverride(), failing: ["vertex", "fireworks"])
        #expect(both.untouched.map(\.feature).contains("code_completions"), "codestral on Vertex is failing too")
        #expect(both.override["code_completions"] == nil)
    }

    @Test func aFailoverThatWritesNothingSaysWhy() {
        let planner = Fixtures.planner
        #expect(
            planner.whyFailoverIsEmpty("vertex/text_embedding_005_vertex")
                == "embeddings_code: its only selectable model is text_embedding_005_vertex: no failover is possible")
        #expect(planner.whyFailoverIsEmpty("vertex/claude_sonnet_4_6_vertex") == nil, "duo_chat moves to Bedrock")
        #expect(planner.whyFailoverIsEmpty("vertex") == nil, "a whole provider is always judged by its plan at the time")
        #expect(planner.whyFailoverIsEmpty("vertex/no_such_model") == "the catalog does not know no_such_model: nothing to fail over")
        #expect(planner.whyFailoverIsEmpty("cohere") == "no model of the catalog is on cohere: nothing to fail over")
        #expect(
            Array(planner.emptyFailovers(["vertex/text_embedding_005_vertex", "vertex/claude_sonnet_4_6_vertex"]).keys) == [
                "vertex/text_embedding_005_vertex"
            ])
    }

    @Test func anEquivalentMustBeSelectable() {
        // duo_agent_platform_agentic_chat may not select haiku; its tags stay on Vertex.
        let plan = planner.plan(current: ModelOverride(), failing: ["vertex"])
        #expect(
            plan.taggedOnFailing.map { "\($0.feature).\($0.tag)=\($0.model)" } == [
                "duo_agent_platform_agentic_chat.small=claude_haiku_4_5_20251001_vertex",
                "duo_agent_platform_agentic_chat.large=claude_sonnet_4_6_vertex",
            ])
        for (setting, models) in plan.override.entries {
            let feature = planner.features.first { $0.setting == setting }!
            #expect(models.allSatisfy(feature.allows), "\(setting): \(models)")
        }
    }

    @Test func preExistingKeysAreKeptInPlaceAndUnaffectedOnesUntouched() throws {
        let current = try ModelOverride.parse(
            #"{"code_completions":["claude_sonnet_4_5_20250929"],"unknown_feature":["x"],"#
                + #""duo_chat":["claude_sonnet_4_5_20250929_vertex","claude_sonnet_4_5_20250929"]}"#
        )
        let plan = planner.plan(current: current, failing: ["vertex"])
        #expect(plan.override.features.prefix(3) == ["code_completions", "unknown_feature", "duo_chat"])
        #expect(plan.override["code_completions"] == ["claude_sonnet_4_5_20250929"])
        #expect(plan.override["unknown_feature"] == ["x"])
        #expect(plan.override["duo_chat"] == ["claude_sonnet_4_5_20250929"])
        #expect(
            plan.changes.first { $0.feature == "duo_chat" }?.before == ["claude_sonnet_4_5_20250929_vertex", "claude_sonnet_4_5_20250929"])
    }

    @Test func replanningFromTheBaseRestoresExactlyWhatWasThere() throws {
        let original = try ModelOverride.parse(
            #"{"code_completions":["claude_sonnet_4_5_20250929"],"duo_chat":["claude_sonnet_4_6_vertex","claude_sonnet_4_6"]}"#)
        let failover = planner.plan(current: original, failing: ["vertex"])
        let owned = Ownership().applying(failover, providers: ["vertex"], lettingGo: [])
        #expect(owned.keys["duo_chat"]?.before == ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"])
        #expect(owned.keys["code_generations"]?.before == nil)
        let restore = planner.plan(current: failover.override, failing: [], base: owned.base(excluding: []))
        #expect(restore.override == original)
        // Two providers, then one recovers: the other's models stay out.
        let double = planner.plan(current: original, failing: ["vertex", "bedrock"])
        let ownedBoth = Ownership().applying(double, providers: ["bedrock", "vertex"], lettingGo: [])
        let partial = planner.plan(current: double.override, failing: ["bedrock"], base: ownedBoth.base(excluding: []))
        #expect(partial.override["duo_chat"] == ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"])
        #expect(partial.override["generate_commit_message"] == ["claude_haiku_4_5_20251001_vertex", "claude_haiku_4_5_20251001"])
    }

    @Test func theGatewaysValidationRunsBeforeAnyWrite() throws {
        let bad = try ModelOverride.parse(
            #"{"duo_chat":[],"code_generations":["no_such_model"],"code_completions":["claude_sonnet_4_6"],"other":["anything"]}"#)
        #expect(
            planner.validate(bad) == [
                "duo_chat: empty list of models", "code_generations: unknown model no_such_model",
                "code_completions: claude_sonnet_4_6 is not in its selectable_models",
            ])
    }

    @Test func planRendersAsADiffAndAsJSON() throws {
        let plan = planner.plan(current: ModelOverride(), failing: ["vertex"])
        let diff = plan.diff(target: "aigw-production")
        #expect(
            diff.contains("duo_chat:\n    - default_models [\"claude_sonnet_4_6_vertex\"]\n    + override [\"claude_sonnet_4_6_bedrock\"]"))
        #expect(diff.contains("! embeddings_code left unchanged"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(plan.json(target: "t").utf8)) as? [String: Any])
        #expect((json["override"] as? [String: [String]])?["duo_chat"] == ["claude_sonnet_4_6_bedrock"])
        #expect((json["changes"] as? [[String: Any]])?.isEmpty == false)
    }
}

@Suite struct OverrideAndOwnershipTests {
    @Test func overrideJSONRoundTripsAndKeepsOrder() throws {
        let text = #"{"b":["x","y"],"a":[]}"#
        #expect(try ModelOverride.parse(text).json == text)
        #expect(try ModelOverride.parse("  ").entries.isEmpty)
        #expect(try ModelOverride.parse(#" { "a" : [ "x\"q" ] } "#)["a"] == ["x\"q"])
    }

    @Test(arguments: [
        (#"{"a":"x"}"#, "the value of \"a\" must be a list of model ids"),
        (#"{"a":["x"],"a":["y"]}"#, #"key "a" appears twice"#),
        (#"{"a":["x"]"#, "expected '}'"),
        (#"["a"]"#, "expected '{'"),
        (#"{"a":[1]}"#, "expected a string"),
        (#"{"a":["x"]} extra"#, "unexpected text after the object"),
    ])
    func malformedOverridesAreRefused(text: String, problem: String) {
        #expect(throws: ModelOverride.Malformed.self) { try ModelOverride.parse(text) }
        do { _ = try ModelOverride.parse(text) } catch { #expect(error.problem == problem) }
    }

    @Test func ownershipSurvivesTheSecretsMetadata() throws {
        var ownership = Ownership()
        ownership.providers = ["bedrock", "vertex"]
        ownership.keys = [
            "duo_chat": .init(before: nil, after: ["claude_sonnet_4_6_bedrock"]), "x": .init(before: ["a"], after: ["b", "c"]),
        ]
        ownership.baseVersion = 7
        ownership.writtenVersion = 8
        let metadata = ownership.metadata
        #expect(metadata.values.allSatisfy { $0.utf8.count <= 512 })
        #expect(try Ownership(metadata: metadata.merging(["someone-else": "keep"]) { a, _ in a }) == ownership)
        #expect(try Ownership(metadata: [:]).isEmpty)
    }

    @Test func aPendingActionSurvivesTheSecretsMetadataInEachOfItsStages() throws {
        var now = Ownership()
        now.providers = ["vertex"]
        now.keys = [
            "duo_chat": .init(before: ["claude_sonnet_4_6_vertex"], after: ["claude_sonnet_4_6"]),
            "kept": .init(before: nil, after: ["m"]),
            "released": .init(before: ["old"], after: ["failover"]),
            "rebased": .init(before: ["first"], after: ["x"]),
        ]
        now.baseVersion = 3
        now.writtenVersion = 4
        var next = now
        next.providers = ["bedrock", "vertex"]
        next.keys["duo_chat"]!.after = ["claude_sonnet_4_5_20250929"]
        next.keys["released"] = nil
        next.keys["rebased"] = .init(before: nil, after: ["y"])
        next.keys["new"] = .init(before: ["n"], after: ["n2"])
        let pending = PendingAction(
            action: "failover", provider: "bedrock", pipeline: 7, job: 9, jobName: "🛫 [ai-gateway] Trigger runway deployment production",
            write: nil)
        let ahead = now.aboutToWrite(next, over: 4, pending: pending)
        let written = ahead.written(as: 5)
        for stage in [ahead, written, written.settled] {
            #expect(stage.metadata.values.allSatisfy { $0.utf8.count <= 512 })
            #expect(try Ownership(metadata: stage.metadata) == stage)
        }
        #expect(ahead.settled == now, "a write that never happened leaves the ownership as it was")
        #expect(
            written.providers == ["bedrock", "vertex"] && written.keys == next.keys && written.baseVersion == 3
                && written.writtenVersion == 5)
        #expect(written.pending?.write == nil && written.pending?.job == 9, "only the redeploy is owed")
        #expect(written.settled.pending == nil)
    }

    @Test func onlyTheAgentsOwnWriteIsTakenForThePendingOne() throws {
        var now = Ownership()
        now.providers = ["vertex"]
        now.keys = ["a": .init(before: ["a0"], after: ["a1"]), "b": .init(before: nil, after: ["b1"])]
        var next = Ownership()
        next.providers = []
        let restore = now.aboutToWrite(
            next, over: 2, pending: PendingAction(action: "restore", provider: "vertex", pipeline: 1, job: 1, jobName: "d", write: nil))
        #expect(restore.isPendingWrite(try ModelOverride.parse(#"{"a":["a0"]}"#)))
        #expect(!restore.isPendingWrite(try ModelOverride.parse(#"{"a":["a0"],"b":["b1"]}"#)), "b still holds the agent's value")
        var further = now
        further.keys["a"]!.after = ["a2"]
        let failover = now.aboutToWrite(
            further, over: 2, pending: PendingAction(action: "failover", provider: "x", pipeline: 1, job: 1, jobName: "d", write: nil))
        #expect(failover.isPendingWrite(try ModelOverride.parse(#"{"a":["a2"],"b":["b1"],"other":["z"]}"#)))
        #expect(!failover.isPendingWrite(try ModelOverride.parse(#"{"a":["a1"],"b":["b1"]}"#)))
        #expect(!now.isPendingWrite(try ModelOverride.parse("{}")), "nothing pending: nothing to take")
    }

    @Test func aKeyTakenBackAfterAPersonsEditKeepsThePersonsValueAsItsBefore() throws {
        let original = try ModelOverride.parse(#"{"duo_chat":["claude_sonnet_4_6_vertex","claude_sonnet_4_6"]}"#)
        let failover = Fixtures.planner.plan(current: original, failing: ["vertex"])
        let owned = Ownership().applying(failover, providers: ["vertex"], lettingGo: [])
        var persons = failover.override
        persons["duo_chat"] = ["claude_sonnet_4_6_vertex"]  // a person puts Vertex back by hand
        let changed = owned.keysChangedByOthers(in: persons)
        #expect(changed == ["duo_chat"])
        let plan = Fixtures.planner.plan(current: persons, failing: ["vertex"], base: owned.base(excluding: changed))
        let next = owned.applying(plan, providers: ["vertex"], lettingGo: changed)
        #expect(
            next.keys["duo_chat"]?.before == ["claude_sonnet_4_6_vertex"],
            "restoring puts back the person's value, not the one before the agent's first write")
        #expect(next.keys["duo_chat"]?.after == plan.override["duo_chat"])
    }

    @Test func keysChangedByPeopleAreLetGo() throws {
        var ownership = Ownership()
        ownership.providers = ["vertex"]
        ownership.keys = [
            "duo_chat": .init(before: nil, after: ["claude_sonnet_4_6_bedrock"]),
            "code_generations": .init(before: nil, after: ["claude_sonnet_4_6_bedrock"]),
        ]
        let current = try ModelOverride.parse(#"{"duo_chat":["claude_sonnet_4_6"],"code_generations":["claude_sonnet_4_6_bedrock"]}"#)
        let changed = ownership.keysChangedByOthers(in: current)
        #expect(changed == ["duo_chat"])
        #expect(ownership.base(excluding: changed).keys.sorted() == ["code_generations"])
    }
}
