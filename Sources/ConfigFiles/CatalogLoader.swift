import Config
import Selection

/// Reads the AI Gateway's `models.yml` and `unit_primitives.yml` in their real shapes.
public enum CatalogLoader {
    /// The catalog; `corrections` (model id → provider) win over what the file says.
    public static func models(file: String, corrections: [String: String] = [:]) throws(ConfigError) -> ModelCatalog {
        try models(YAMLFields.load(file: file), corrections: corrections)
    }

    static func models(_ yaml: YAMLFields, corrections: [String: String] = [:]) throws(ConfigError) -> ModelCatalog {
        guard let list = try yaml.optionalList("models") else { throw yaml.error(nil, "missing required field models") }
        var models: [ModelInfo] = []
        for item in list {
            let id = try item.string("gitlab_identifier")
            let params = try item.optionalFields("params")
            let modelClassProvider = try item.optionalString("model_class_provider")
            let customLLMProvider = try params?.optionalString("custom_llm_provider")
            let provider = corrections[id] ?? ModelCatalog.provider(id: id, modelClassProvider: modelClassProvider, customLLMProvider: customLLMProvider)
            guard let provider else {
                throw item.error("gitlab_identifier", "cannot tell the provider of \(id): set it under catalog.providers in the agent config")
            }
            models.append(ModelInfo(id: id, provider: provider, family: ModelCatalog.family(id: id)))
        }
        return ModelCatalog(models)
    }

    /// The configurable features; every model they name must be in `catalog`.
    public static func features(file: String, catalog: ModelCatalog) throws(ConfigError) -> [Feature] {
        try features(YAMLFields.load(file: file), catalog: catalog)
    }

    static func features(_ yaml: YAMLFields, catalog: ModelCatalog) throws(ConfigError) -> [Feature] {
        guard let list = try yaml.optionalList("configurable_unit_primitives") else {
            throw yaml.error(nil, "missing required field configurable_unit_primitives")
        }
        var features: [Feature] = []
        for item in list {
            let setting = try item.string("feature_setting")
            guard let defaults = try item.optionalStrings("default_models"), !defaults.isEmpty else {
                throw item.error("default_models", "\(setting) needs at least one default model")
            }
            let selectable = try item.optionalStrings("selectable_models") ?? []
            var tags: [(tag: String, model: String)] = []
            if let tagFields = try item.optionalFields("models_for_tags") {
                for tag in tagFields.keys { tags.append((tag, try tagFields.string(tag))) }
            }
            for (field, models) in [("default_models", defaults), ("selectable_models", selectable), ("models_for_tags", tags.map(\.model))] {
                if let unknown = models.first(where: { catalog[$0] == nil }) {
                    throw item.error(field, "unknown model \(unknown) (not in models.yml)")
                }
            }
            features.append(Feature(setting: setting, defaultModels: defaults, selectableModels: selectable, modelsForTags: tags))
        }
        return features
    }
}
