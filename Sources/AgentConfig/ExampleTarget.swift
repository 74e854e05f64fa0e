import Selection
import YAMLConfig

/// The built-in example target `replay` plans for when no config is given: an AI Gateway-shaped
/// catalog (a trimmed `models.yml` and `unit_primitives.yml`) on Vertex AI, Bedrock and Anthropic.
public enum ExampleTarget {
    public static let name = "aigw-production"

    /// The example's planner (parsed once).
    public static func planner() -> Planner { shared }

    private static let shared: Planner = {
        do {
            let catalog = try CatalogLoader.models(YAMLFields.parse(models, file: "built-in models.yml"))
            return Planner(
                catalog: catalog,
                features: try CatalogLoader.features(
                    YAMLFields.parse(unitPrimitives, file: "built-in unit_primitives.yml"), catalog: catalog))
        } catch {
            preconditionFailure("the built-in example catalog is invalid: \(error)")
        }
    }()

    static let models = """
        models:
          - {gitlab_identifier: claude_sonnet_4_6_vertex, model_class_provider: litellm, params: {custom_llm_provider: vertex_ai}}
          - {gitlab_identifier: claude_sonnet_4_6_bedrock, model_class_provider: litellm, params: {custom_llm_provider: bedrock}}
          - {gitlab_identifier: claude_sonnet_4_6, model_class_provider: anthropic}
          - {gitlab_identifier: claude_haiku_4_5_20251001_vertex, model_class_provider: litellm, params: {custom_llm_provider: vertex_ai}}
          - {gitlab_identifier: claude_haiku_4_5_20251001_bedrock, model_class_provider: litellm, params: {custom_llm_provider: bedrock}}
          - {gitlab_identifier: claude_haiku_4_5_20251001, model_class_provider: anthropic}
          - {gitlab_identifier: text_embedding_005_vertex, model_class_provider: litellm, params: {custom_llm_provider: vertex_ai}}
        """

    static let unitPrimitives = """
        configurable_unit_primitives:
          - feature_setting: duo_chat
            default_models: [claude_sonnet_4_6_vertex]
            selectable_models: [claude_sonnet_4_6_vertex, claude_sonnet_4_6_bedrock, claude_sonnet_4_6]
          - feature_setting: code_generations
            default_models: [claude_sonnet_4_6_vertex, claude_sonnet_4_6]
            selectable_models: [claude_sonnet_4_6_vertex, claude_sonnet_4_6_bedrock, claude_sonnet_4_6]
          - feature_setting: generate_commit_message
            default_models: [claude_haiku_4_5_20251001_vertex, claude_haiku_4_5_20251001_bedrock, claude_haiku_4_5_20251001]
            selectable_models: [claude_haiku_4_5_20251001_vertex, claude_haiku_4_5_20251001_bedrock, claude_haiku_4_5_20251001]
          - feature_setting: embeddings_code
            default_models: [text_embedding_005_vertex]
            selectable_models: [text_embedding_005_vertex]
        """
}
