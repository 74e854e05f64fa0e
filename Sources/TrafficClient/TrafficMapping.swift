import Health
import ProbeResults
import Selection

/// One series of a Prometheus instant vector: its labels and value.
public struct Series: Sendable, Equatable {
    public var labels: [String: String]
    public var value: Double

    public init(labels: [String: String], value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// Which subject (``Subject``) a series of the gateway's `model_inferences_total` speaks for:
/// `model_name` is the catalog's `params.model` (or, on the older code-suggestion path, the model
/// itself), and the engine tells Anthropic direct (`anthropic-chat`) from the LiteLLM models
/// (`litellm-chat`: Vertex AI, Bedrock, Fireworks alike) and the older engines (`vertex-ai`,
/// `fireworks_ai`). A series that names no single provider is listed, never guessed.
public struct TrafficMapping: Sendable {
    public let catalog: ModelCatalog
    /// The subjects the agent judges; a series maps to the model's own subject, else its provider's.
    public let subjects: Set<String>
    /// `error_type`s that are the caller's fault, left out of requests and failures alike.
    public let callerErrorTypes: Set<String>

    public static let defaultCallerErrorTypes = ["prompt_too_long", "http_400", "permission_error"]
    static let engineProviders = ["anthropic-chat": "anthropic", "vertex-ai": "vertex", "fireworks_ai": "fireworks"]

    public init(catalog: ModelCatalog, subjects: Set<String>, callerErrorTypes: [String] = defaultCallerErrorTypes) {
        self.catalog = catalog
        self.subjects = subjects
        self.callerErrorTypes = Set(callerErrorTypes)
    }

    /// The subject of `model_engine` and `model_name`; nil when it is not one provider's or not judged.
    public func subject(engine: String, model: String) -> String? {
        var candidates = catalog.models.filter { $0.isManaged && ($0.serving.model == model || $0.id == model) }
        if let provider = Self.engineProviders[engine] {
            candidates = candidates.filter { $0.provider == provider }
        } else if engine.hasPrefix("litellm") {
            candidates = candidates.filter { $0.serving.modelClass?.hasPrefix("litellm") ?? true }
        }
        let providers = Set(candidates.compactMap(\.provider))
        guard providers.count == 1, let provider = providers.first else { return nil }
        if candidates.count == 1, case let own = Subject.key(provider: provider, model: candidates[0].id), subjects.contains(own) {
            return own
        }
        return subjects.contains(provider) ? provider : nil
    }

    /// Each subject's requests and failures (`error="yes"`) in the series, and the series no subject
    /// takes (`engine/model`, sorted), to be listed.
    public func windows(_ series: [Series]) -> (windows: [String: TrafficCount], unmapped: [String]) {
        var windows: [String: TrafficCount] = [:]
        var unmapped: Set<String> = []
        for item in series {
            if let type = item.labels["error_type"], callerErrorTypes.contains(type) { continue }
            let engine = item.labels["model_engine"] ?? ""
            let model = item.labels["model_name"] ?? ""
            guard let subject = subject(engine: engine, model: model) else {
                unmapped.insert("\(engine)/\(model)")
                continue
            }
            var count = windows[subject] ?? TrafficCount(requests: 0, failures: 0)
            count.requests += item.value
            if item.labels["error"] == "yes" { count.failures += item.value }
            windows[subject] = count
        }
        return (windows, unmapped.sorted())
    }
}
