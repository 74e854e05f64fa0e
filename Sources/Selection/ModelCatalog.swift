/// A model of the gateway's `models.yml`, with the provider that serves it and its family (the
/// same model on other providers shares the family).
public struct ModelInfo: Sendable, Equatable {
    /// `gitlab_identifier`: what `default_models` and the override name.
    public var id: String
    public var provider: String
    public var family: String

    public init(id: String, provider: String, family: String) {
        self.id = id
        self.provider = provider
        self.family = family
    }
}

/// Every model the gateway knows, by identifier, in file order.
public struct ModelCatalog: Sendable, Equatable {
    public private(set) var models: [ModelInfo]
    private var index: [String: Int]

    public init(_ models: [ModelInfo]) {
        self.models = models
        index = Dictionary(models.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(id: String) -> ModelInfo? { index[id].map { models[$0] } }

    /// The agent's provider name for a model, from its fields (DESIGN.md: `custom_llm_provider`,
    /// else `model_class_provider`, else the identifier's suffix); nil when none of them tells.
    public static func provider(id: String, modelClassProvider: String?, customLLMProvider: String?) -> String? {
        for candidate in [customLLMProvider, modelClassProvider].compactMap({ $0 }) {
            if let name = providerNames[candidate] { return name }
        }
        return suffixProviders.first { id.hasSuffix("_" + $0.suffix) }?.provider
    }

    /// The family of a model: its identifier without a provider suffix
    /// (`claude_sonnet_4_6_vertex` → `claude_sonnet_4_6`).
    public static func family(id: String) -> String {
        for (suffix, _) in suffixProviders where id.hasSuffix("_" + suffix) { return String(id.dropLast(suffix.count + 1)) }
        return id
    }

    /// Provider names as models.yml spells them → as the agent does.
    public static let providerNames: [String: String] = [
        "vertex_ai": "vertex", "vertex": "vertex", "bedrock": "bedrock", "anthropic": "anthropic", "fireworks_ai": "fireworks",
        "fireworks": "fireworks", "openai": "openai", "azure": "azure", "azure_ai": "azure", "mistral": "mistral",
    ]
    static let suffixProviders: [(suffix: String, provider: String)] = [
        ("vertex", "vertex"), ("bedrock", "bedrock"), ("fireworks", "fireworks"), ("azure", "azure"), ("openai", "openai"),
        ("anthropic", "anthropic"), ("mistral", "mistral"),
    ]
}

/// One `configurable_unit_primitives` entry of `unit_primitives.yml`.
public struct Feature: Sendable, Equatable {
    public var setting: String
    public var defaultModels: [String]
    /// Empty: any model may be chosen.
    public var selectableModels: [String]
    /// Tag → model; never changed by the override.
    public var modelsForTags: [(tag: String, model: String)]

    public init(setting: String, defaultModels: [String], selectableModels: [String] = [], modelsForTags: [(tag: String, model: String)] = []) {
        self.setting = setting
        self.defaultModels = defaultModels
        self.selectableModels = selectableModels
        self.modelsForTags = modelsForTags
    }

    public static func == (a: Feature, b: Feature) -> Bool {
        a.setting == b.setting && a.defaultModels == b.defaultModels && a.selectableModels == b.selectableModels
            && a.modelsForTags.map(\.tag) == b.modelsForTags.map(\.tag) && a.modelsForTags.map(\.model) == b.modelsForTags.map(\.model)
    }

    /// Whether the gateway's own validation allows `model` as a default of this feature.
    public func allows(_ model: String) -> Bool { selectableModels.isEmpty || selectableModels.contains(model) }
}
