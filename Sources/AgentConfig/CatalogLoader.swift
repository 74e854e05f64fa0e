import Selection
import YAMLConfig

/// Reads the AI Gateway's `models.yml` and `unit_primitives.yml` in their real shapes, any version:
/// fields the agent does not use are ignored, and a model whose provider no field tells is loaded
/// as unmanaged rather than refused.
public enum CatalogLoader {
    /// ``deployed(models:unitPrimitives:source:)`` as an executor's `catalogParser`.
    public static let deployedParser: @Sendable (String, String, String) throws -> DeployedCatalog = {
        try deployed(models: $0, unitPrimitives: $1, source: $2)
    }

    /// The catalog a deployed image was built with, from its `models.yml` and `unit_primitives.yml`
    /// as they stand at the deployed commit: the models it knows, each feature's selectable models.
    public static func deployed(models: String, unitPrimitives: String, source: String) throws(ConfigError) -> DeployedCatalog {
        let catalog = try Self.models(YAMLFields.parse(models, file: "models.yml at \(source)"))
        let features = try Self.features(YAMLFields.parse(unitPrimitives, file: "unit_primitives.yml at \(source)"), catalog: catalog)
        return DeployedCatalog(
            models: Set(catalog.models.map(\.id)),
            selectable: Dictionary(features.map { ($0.setting, $0.selectableModels) }, uniquingKeysWith: { a, _ in a }), source: source)
    }

    /// The catalog; `corrections` (model id → provider, or `unmanaged`) win over what the file says.
    public static func models(file: String, corrections: [String: String] = [:]) throws(ConfigError) -> ModelCatalog {
        try models(YAMLFields.load(file: file), corrections: corrections)
    }

    public static func models(_ yaml: YAMLFields, corrections: [String: String] = [:]) throws(ConfigError) -> ModelCatalog {
        guard let list = try yaml.optionalList("models") else { throw yaml.error(nil, "missing required field models") }
        var models: [ModelInfo] = []
        var seen: Set<String> = []
        for item in list {
            let id = try item.string("gitlab_identifier")
            guard seen.insert(id).inserted else { throw item.error("gitlab_identifier", "\(id) is listed twice") }
            let params = try item.optionalFields("params")
            let paramsModel = try params?.optionalString("model")
            // The gateway reads `prompt_params.vertex_location`; older catalogs had it under `params`.
            var location = try item.optionalFields("prompt_params")?.optionalString("vertex_location")
            if location == nil { location = try params?.optionalString("vertex_location") }
            let modelClass = try item.optionalString("model_class_provider")
            let told = ModelCatalog.provider(
                id: id, modelClassProvider: modelClass,
                customLLMProvider: try params?.optionalString("custom_llm_provider"), paramsModel: paramsModel)
            let provider = corrections[id].map { $0 == unmanaged ? nil : $0 } ?? told
            models.append(
                ModelInfo(
                    id: id, provider: provider, family: try item.optionalStrings("family") ?? [],
                    sameModel: paramsModel.map(ModelCatalog.sameModel(paramsModel:)),
                    serving: ModelInfo.Serving(
                        model: paramsModel, modelClass: modelClass, identifier: try params?.optionalString("identifier"),
                        location: location)))
        }
        return ModelCatalog(models)
    }

    /// The word `catalog.providers` uses to mark a model as unmanaged.
    public static let unmanaged = "unmanaged"

    /// `provider` must be one of the agent's provider names; models.yml's spellings are named.
    public static func checkProvider(_ provider: String, in yaml: YAMLFields, field: String, allowUnmanaged: Bool = false)
        throws(ConfigError)
    {
        if allowUnmanaged && provider == unmanaged { return }
        guard ModelCatalog.knownProviders.contains(provider) else {
            let hint =
                ModelCatalog.providerNames[provider.lowercased()].map { ": write \($0) (models.yml's \(provider) is \($0) here)" }
                ?? " (known: \(ModelCatalog.knownProviders.sorted().joined(separator: ", "))\(allowUnmanaged ? ", or unmanaged" : ""))"
            throw yaml.error(field, "'\(provider)' is not a provider name\(hint)")
        }
    }

    /// The configurable features; every model they name must be in `catalog`.
    public static func features(file: String, catalog: ModelCatalog) throws(ConfigError) -> [Feature] {
        try features(YAMLFields.load(file: file), catalog: catalog)
    }

    public static func features(_ yaml: YAMLFields, catalog: ModelCatalog) throws(ConfigError) -> [Feature] {
        guard let list = try yaml.optionalList("configurable_unit_primitives") else {
            throw yaml.error(nil, "missing required field configurable_unit_primitives")
        }
        var features: [Feature] = []
        for item in list {
            let setting = try item.string("feature_setting")
            if features.contains(where: { $0.setting == setting }) { throw item.error("feature_setting", "\(setting) is listed twice") }
            guard let defaults = try item.optionalStrings("default_models"), !defaults.isEmpty else {
                throw item.error("default_models", "\(setting) needs at least one default model")
            }
            let selectable = try item.optionalStrings("selectable_models") ?? []
            var tags: [(tag: String, model: String)] = []
            for field in ["models_for_size_preference", "models_for_tags"] {
                guard let tagFields = try item.optionalFields(field) else { continue }
                for tag in tagFields.keys { tags.append((tag, try tagFields.string(tag))) }
            }
            for (field, models) in [
                ("default_models", defaults), ("selectable_models", selectable), ("models_for_size_preference", tags.map(\.model)),
            ] {
                if let unknown = models.first(where: { catalog[$0] == nil }) {
                    throw item.error(field, "unknown model \(unknown) (not in models.yml)")
                }
            }
            features.append(Feature(setting: setting, defaultModels: defaults, selectableModels: selectable, modelsForTags: tags))
        }
        return features
    }
}
