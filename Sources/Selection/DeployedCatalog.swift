/// The catalog the deployed gateway image knows, as its `/v1/models/definitions` lists it (or as
/// `models.yml` and `unit_primitives.yml` stand at the deployed commit): the models it has, and
/// each feature's `selectable_models`. It can differ from the files the agent was given, and it
/// is the truth: the gateway starts with any override that parses, and a model it does not know
/// fails every request of that feature.
public struct DeployedCatalog: Sendable, Equatable {
    /// Every model identifier the deployed image lists.
    public var models: Set<String>
    /// Feature setting → its selectable models (empty: any model of the catalog).
    public var selectable: [String: [String]]
    /// Where it was read (a gateway URL, or `project@sha`), as pages name it.
    public var source: String

    public init(models: Set<String>, selectable: [String: [String]], source: String) {
        (self.models, self.selectable, self.source) = (models, selectable, source)
    }

    /// What every one of `catalogs` allows (a fleet whose URLs run different images: only what all of them know).
    public static func common(_ catalogs: [DeployedCatalog]) -> DeployedCatalog? {
        guard var result = catalogs.first else { return nil }
        for other in catalogs.dropFirst() {
            result.models.formIntersection(other.models)
            for (feature, models) in other.selectable {
                guard let mine = result.selectable[feature] else {
                    result.selectable[feature] = models
                    continue
                }
                result.selectable[feature] = mine.isEmpty ? models : models.isEmpty ? mine : mine.filter(models.contains)
            }
            result.source += ", " + other.source
        }
        return result
    }

    /// Whether the deployed image serves `model` as a default of `feature`.
    public func allows(_ model: String, for feature: String) -> Bool {
        guard models.contains(model) else { return false }
        guard let list = selectable[feature], !list.isEmpty else { return true }
        return list.contains(model)
    }
}

extension Planner {
    /// This planner limited to what the deployed image can serve (``deployed``).
    public func within(_ deployed: DeployedCatalog?) -> Planner {
        Planner(catalog: catalog, features: features, prefer: prefer, deployed: deployed)
    }

    /// Whether the deployed image (when known) serves `model` as a default of `feature`.
    func deployable(_ model: String, _ feature: String) -> Bool { deployed?.allows(model, for: feature) ?? true }
}
