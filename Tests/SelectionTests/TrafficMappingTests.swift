import Health
import Selection
import Testing
import TrafficClient

/// The gateway's `model_inferences_total` series, mapped to the subjects the agent probes, with
/// the catalog's quirks: Vertex AI and Anthropic direct share `model_name` `claude-sonnet-4-6`.
@Suite struct TrafficMappingTests {
    static let subjects: Set<String> = ["vertex", "bedrock", "anthropic", "vertex/claude_haiku_4_5_20251001_vertex"]
    let mapping = TrafficMapping(catalog: Fixtures.planner.catalog, subjects: Self.subjects)

    @Test func theEngineTellsProvidersOfTheSameModelApart() {
        #expect(mapping.subject(engine: "litellm-chat", model: "claude-sonnet-4-6") == "vertex")
        #expect(mapping.subject(engine: "anthropic-chat", model: "claude-sonnet-4-6") == "anthropic")
        #expect(mapping.subject(engine: "litellm-chat", model: "bedrock/global.anthropic.claude-sonnet-4-6") == "bedrock")
    }

    @Test func aModelWithItsOwnProbeGetsItsOwnTraffic() {
        let haiku = Fixtures.planner.catalog["claude_haiku_4_5_20251001_vertex"]?.serving.model ?? ""
        #expect(!haiku.isEmpty)
        #expect(mapping.subject(engine: "litellm-chat", model: haiku) == "vertex/claude_haiku_4_5_20251001_vertex")
    }

    @Test func unknownAndAmbiguousSeriesAreListedNotGuessed() {
        #expect(mapping.subject(engine: "litellm-chat", model: "gpt-9") == nil)
        #expect(mapping.subject(engine: "mystery-engine", model: "claude-sonnet-4-6") == nil, "Vertex AI or Anthropic: not told")
        let (windows, unmapped) = mapping.windows([
            Series(
                labels: ["model_engine": "litellm-chat", "model_name": "claude-sonnet-4-6", "error": "no", "error_type": "none"], value: 90),
            Series(
                labels: ["model_engine": "litellm-chat", "model_name": "claude-sonnet-4-6", "error": "yes", "error_type": "other"],
                value: 30),
            Series(
                labels: [
                    "model_engine": "litellm-chat", "model_name": "claude-sonnet-4-6", "error": "yes", "error_type": "prompt_too_long",
                ], value: 500),
            Series(labels: ["model_engine": "litellm-chat", "model_name": "gpt-9", "error": "no", "error_type": "none"], value: 7),
        ])
        #expect(windows == ["vertex": TrafficCount(requests: 120, failures: 30)], "the caller's prompt_too_long left out")
        #expect(unmapped == ["litellm-chat/gpt-9"])
    }
}
