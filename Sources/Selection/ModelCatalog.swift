import ProbeResults

/// A model of the gateway's `models.yml`: the provider that serves it (nil: unmanaged — self-hosted,
/// `amazon_q`, or any model whose provider no field tells), its `family` list, and the name of the
/// model itself, shared by the same model on other providers.
public struct ModelInfo: Sendable, Equatable {
    /// `gitlab_identifier`: what `default_models` and the override name.
    public var id: String
    /// The agent's provider name (`vertex`, `bedrock`, …); nil: the agent never removes nor chooses it.
    public var provider: String?
    /// The gateway's own `family` list (may be empty).
    public var family: [String]
    /// The model whatever serves it: the normalised `params.model`, else the id without its suffix.
    public var sameModel: String
    /// How the gateway calls it, for probes derived from the catalog.
    public var serving: Serving

    /// The fields of `models.yml` that say how the gateway calls a model.
    public struct Serving: Sendable, Equatable {
        /// `params.model`, as written (`bedrock/global.anthropic.…`, `claude-sonnet-4-6`, …).
        public var model: String?
        /// `model_class_provider` (`anthropic`, `litellm`, `litellm_completion`, `google_genai`, …).
        public var modelClass: String?
        /// `params.identifier` (Fireworks routers), when given.
        public var identifier: String?
        /// `prompt_params.vertex_location` (older catalogs: `params.vertex_location`), when given.
        public var location: String?

        public init(model: String? = nil, modelClass: String? = nil, identifier: String? = nil, location: String? = nil) {
            self.model = model
            self.modelClass = modelClass
            self.identifier = identifier
            self.location = location
        }
    }

    public init(id: String, provider: String?, family: [String] = [], sameModel: String? = nil, serving: Serving = Serving()) {
        self.id = id
        self.provider = provider
        self.family = family
        self.sameModel = sameModel ?? ModelCatalog.stem(id: id)
        self.serving = serving
    }

    public var isManaged: Bool { provider != nil }
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

    /// Models whose provider cannot be told: never removed, never chosen.
    public var unmanaged: [ModelInfo] { models.filter { !$0.isManaged } }

    /// Whether `model` is among `subjects`: its provider is, or the model itself is as
    /// `provider/model` (``Subject``). An unknown or unmanaged model never is.
    public func isOn(_ model: String, _ subjects: Set<String>) -> Bool {
        guard let provider = self[model]?.provider else { return false }
        return subjects.contains(provider) || subjects.contains(Subject.key(provider: provider, model: model))
    }

    /// Every provider some model is on, sorted.
    public var providers: [String] { Set(models.compactMap(\.provider)).sorted() }

    /// The agent's provider name for a model (DESIGN.md): `custom_llm_provider`, else a
    /// `model_class_provider` that is a provider (`anthropic`, `openai`, `google_genai` → Vertex AI),
    /// else the provider prefix of a litellm `params.model` (`vertex_ai/…`), else the identifier's
    /// suffix. nil when none tells (self-hosted models, `amazon_q`).
    public static func provider(id: String, modelClassProvider: String?, customLLMProvider: String?, paramsModel: String? = nil) -> String?
    {
        if let custom = customLLMProvider.flatMap({ providerNames[$0.lowercased()] }) { return custom }
        if let mcp = modelClassProvider?.lowercased(), !litellmClasses.contains(mcp) {
            if mcp == "google_genai" { return suffixProvider(id) ?? "vertex" }
            if let name = providerNames[mcp] { return name }
        }
        if let model = paramsModel, let slash = model.firstIndex(of: "/"), let name = providerNames[model[..<slash].lowercased()] {
            return name
        }
        return suffixProvider(id)
    }

    static func suffixProvider(_ id: String) -> String? {
        suffixProviders.first { id.hasSuffix("_" + $0.suffix) }?.provider
    }

    /// An identifier without its provider suffix (`claude_sonnet_4_6_vertex` → `claude_sonnet_4_6`).
    public static func stem(id: String) -> String {
        for (suffix, _) in suffixProviders where id.hasSuffix("_" + suffix) { return String(id.dropLast(suffix.count + 1)) }
        return id
    }

    /// A provider's model name as the same model on every provider: without a litellm provider
    /// prefix, a Bedrock region and vendor prefix (`global.anthropic.`), a Bedrock version suffix
    /// (`-v1:0`, `-v1`), and with Vertex's `@` as `-` (`claude-sonnet-4-5@20250929`).
    public static func sameModel(paramsModel: String) -> String {
        var name = Substring(paramsModel.lowercased())
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        for region in ["global.", "us.", "eu.", "apac.", "jp.", "au."] where name.hasPrefix(region) { name = name.dropFirst(region.count) }
        for vendor in ["anthropic.", "meta.", "mistral.", "amazon."] where name.hasPrefix(vendor) { name = name.dropFirst(vendor.count) }
        var text = String(name).replacingAll("@", with: "-")
        if let range = text.range(ofSuffixMatching: ["-v1:0", "-v2:0", "-v1", "-v2"]) { text.removeSubrange(range) }
        return text
    }

    /// Provider names as models.yml and litellm spell them → as the agent does.
    public static let providerNames: [String: String] = [
        "vertex_ai": "vertex", "vertex": "vertex", "vertex_ai_beta": "vertex", "bedrock": "bedrock", "bedrock_converse": "bedrock",
        "anthropic": "anthropic", "fireworks_ai": "fireworks", "fireworks": "fireworks", "openai": "openai", "azure": "azure",
        "azure_ai": "azure", "mistral": "mistral", "gemini": "gemini",
    ]
    /// The agent's own provider names: what `catalog.providers`, `catalog.prefer`, probes and scenarios may say.
    public static var knownProviders: Set<String> { Set(providerNames.values) }
    /// `model_class_provider` values that name a client library, not a provider.
    static let litellmClasses: Set<String> = ["litellm", "litellm_completion", "litellm_embedding"]
    static let suffixProviders: [(suffix: String, provider: String)] = [
        ("vertex", "vertex"), ("bedrock", "bedrock"), ("fireworks", "fireworks"), ("azure", "azure"), ("openai", "openai"),
        ("anthropic", "anthropic"), ("mistral", "mistral"),
    ]
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }

    fileprivate func range(ofSuffixMatching suffixes: [String]) -> Range<String.Index>? {
        for suffix in suffixes where hasSuffix(suffix) { return index(endIndex, offsetBy: -suffix.count)..<endIndex }
        return nil
    }
}

/// One `configurable_unit_primitives` entry of `unit_primitives.yml`.
public struct Feature: Sendable, Equatable {
    public var setting: String
    public var defaultModels: [String]
    /// Empty: any model may be chosen.
    public var selectableModels: [String]
    /// Tag → model (`models_for_size_preference`, once `models_for_tags`); never changed by the override.
    public var modelsForTags: [(tag: String, model: String)]

    public init(
        setting: String, defaultModels: [String], selectableModels: [String] = [], modelsForTags: [(tag: String, model: String)] = []
    ) {
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

    /// Whether a failover can ever change this feature: more than one selectable model, or any.
    public var canFailOver: Bool { selectableModels.count != 1 }
}
