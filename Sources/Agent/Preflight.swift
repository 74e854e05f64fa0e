import Probing

/// Fresh probes of the models a failover is about to bring in, right before its write: the
/// gateway's readiness check calls every default model, so a replacement that fails would keep
/// the redeploy from starting.
public struct Preflight: Sendable {
    /// The first spec that asks each model.
    let specs: [String: ProbeSpec]
    let prober: Prober

    public init(specs: [ProbeSpec], prober: Prober) {
        var byModel: [String: ProbeSpec] = [:]
        for spec in specs { if let model = spec.model, byModel[model] == nil { byModel[model] = spec } }
        self.specs = byModel
        self.prober = prober
    }

    /// Each model's probe class, probed at once; models without a probe are left out.
    public func probe(_ models: [String]) async -> [String: String] {
        await withTaskGroup(of: (String, String).self) { group in
            for model in models { if let spec = specs[model] { group.addTask { (model, await prober.probe(spec).resultClass.rawValue) } } }
            var classes: [String: String] = [:]
            for await (model, resultClass) in group { classes[model] = resultClass }
            return classes
        }
    }
}
