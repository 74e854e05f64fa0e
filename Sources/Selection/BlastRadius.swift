/// What each provider's failure would do to a catalog (pure): the features that depend on it, what
/// a failover would change, what cannot fail over, and the tagged models that stay. `check` prints it.
public struct BlastRadius: Sendable {
    public struct Entry: Sendable {
        public var provider: String
        /// Features whose effective models, or tagged models, include a model on this provider.
        public var dependents: [String]
        public var plan: Plan
    }
    public var entries: [Entry]
    /// Unmanaged models (never removed nor chosen), each with the features that use it.
    public var unmanaged: [(model: String, features: [String])]
    /// Where a plan would fail the gateway's own validation (should be empty).
    public var problems: [String]

    /// The blast radius of every provider some feature uses, given the override in force.
    public init(planner: Planner, current: ModelOverride = ModelOverride()) {
        let catalog = planner.catalog
        var byProvider: [String: [String]] = [:]
        var unmanagedUse: [String: [String]] = [:]
        for feature in planner.features {
            let used = (current[feature.setting] ?? feature.defaultModels) + feature.modelsForTags.map(\.model)
            for model in used {
                guard let info = catalog[model] else { continue }
                if let provider = info.provider {
                    if byProvider[provider]?.last != feature.setting { byProvider[provider, default: []].append(feature.setting) }
                } else if unmanagedUse[model]?.last != feature.setting {
                    unmanagedUse[model, default: []].append(feature.setting)
                }
            }
        }
        entries = byProvider.keys.sorted().map { provider in
            Entry(provider: provider, dependents: byProvider[provider]!, plan: planner.plan(current: current, failing: [provider]))
        }
        unmanaged = catalog.unmanaged.map { ($0.id, unmanagedUse[$0.id] ?? []) }
        problems = entries.flatMap { entry in planner.validate(entry.plan.override).map { "\(entry.provider) failover: \($0)" } }
    }

    /// The table `check` prints: one block per provider, then the unmanaged models.
    public var text: String {
        var lines: [String] = []
        for entry in entries {
            lines.append("\(entry.provider): \(entry.dependents.count) feature(s) depend on it")
            for change in entry.plan.changes {
                let before = (change.before ?? change.effectiveBefore).joined(separator: ", ")
                let after = change.after?.joined(separator: ", ") ?? "default_models"
                lines.append("  \(change.feature): \(before) -> \(after)")
            }
            for item in entry.plan.untouched { lines.append("  ! \(item.feature) cannot fail over: \(item.reason)") }
            for tag in entry.plan.taggedOnFailing {
                lines.append("  ! \(tag.feature) \(tag.tag) stays on \(tag.model) (tags cannot be overridden)")
            }
        }
        let used = unmanaged.filter { !$0.features.isEmpty }
        lines.append("unmanaged models (never removed, never chosen): \(unmanaged.count)\(used.isEmpty ? "" : ", used by features:")")
        for item in used { lines.append("  \(item.model): \(item.features.joined(separator: ", "))") }
        let idle = unmanaged.filter(\.features.isEmpty).map(\.model)
        if !idle.isEmpty { lines.append("  not a default of any feature: \(idle.joined(separator: ", "))") }
        lines.append(problems.isEmpty ? "every plan passes the gateway's validation" : "plans failing the gateway's validation:")
        lines += problems.map { "  ! \($0)" }
        return lines.joined(separator: "\n")
    }
}
