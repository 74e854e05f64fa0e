import ControlAPI
import Probing
import Selection

/// The probes derived from the catalog (`model_probes` in the config): one per managed model that
/// is a default of some feature or a replacement the planner may choose, on its own provider,
/// for every provider the config says how to reach.
public struct ModelProbes: Sendable {
    /// One derived endpoint, or a model left unprobed and why.
    public struct Endpoint: Sendable, Equatable {
        public var model: String
        public var provider: String
        public var reason: Planner.ProbeReason
        /// The features it serves or may replace in.
        public var features: [String]
        public var costPerProbe: Double
        /// Why it is not probed; nil when it is.
        public var skipped: String?

        /// The endpoint's name (its spec name): the model's identifier.
        public var name: String { model }
    }

    public var providers: [String: ProviderAccess]

    public init(providers: [String: ProviderAccess]) { self.providers = providers }

    /// Every model worth probing: probed ones with their cost, the others with why not.
    public func endpoints(_ planner: Planner) -> [Endpoint] {
        planner.modelsToProbe().compactMap { entry in
            guard let model = planner.catalog[entry.model], let provider = model.provider else { return nil }
            let access = providers[provider]
            var endpoint = Endpoint(
                model: model.id, provider: provider, reason: entry.reason, features: entry.features,
                costPerProbe: access?.costPerProbe ?? ProbeTemplate.estimatedCost[provider] ?? 0)
            if access == nil {
                endpoint.skipped = "model_probes has no \(provider)"
            } else {
                endpoint.skipped = ProbeTemplate.unsupported(model, stream: access!.stream)
            }
            return endpoint
        }
    }

    /// The specs of every probed endpoint, credentials read from `environment` now.
    public func specs(_ planner: Planner, environment: [String: String]) throws(ControlError) -> [ProbeSpec] {
        var specs: [ProbeSpec] = []
        for endpoint in endpoints(planner) where endpoint.skipped == nil {
            specs.append(
                try ProbeTemplate.spec(
                    for: planner.catalog[endpoint.model]!, access: providers[endpoint.provider]!, environment: environment,
                    costPerProbe: endpoint.costPerProbe))
        }
        return specs
    }
}
