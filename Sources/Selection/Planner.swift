import ProbeResults

/// What the agent changes in one target's override when providers fail, and why.
public struct Plan: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public var feature: String
        /// The key's value before (nil: the key was absent and `default_models` applied).
        public var before: [String]?
        /// What the gateway used before: `before`, or `default_models`.
        public var effectiveBefore: [String]
        /// nil: the key is removed, so `default_models` apply again.
        public var after: [String]?
        /// Why: which models were dropped, and which equivalent was chosen if any.
        public var reason: String
    }
    /// A feature left alone although it uses a failing provider (nothing healthy can replace it).
    public struct Untouched: Sendable, Equatable {
        public var feature: String
        public var reason: String
    }
    /// A `models_for_tags` entry that stays on a failing provider (the override cannot change tags).
    public struct TaggedOnFailing: Sendable, Equatable {
        public var feature: String
        public var tag: String
        public var model: String
    }

    public var failing: [String]
    public var changes: [Change]
    public var untouched: [Untouched]
    public var taggedOnFailing: [TaggedOnFailing]
    /// The override to write: the current one with `changes` applied.
    public var override: ModelOverride

    public var isEmpty: Bool { changes.isEmpty }
}

/// The planner (DESIGN.md, "Planner"): pure, values in, a plan out.
public struct Planner: Sendable {
    public let catalog: ModelCatalog
    public let features: [Feature]
    /// Providers in the order replacements are sought on (`catalog.prefer`); others follow in file order.
    public let prefer: [String]
    /// What the deployed gateway image can serve; nil: not known (only the agent's files are checked).
    /// A feature a failover changes keeps only models it serves, and ``validate(_:)`` refuses any other.
    public let deployed: DeployedCatalog?

    public init(catalog: ModelCatalog, features: [Feature], prefer: [String] = [], deployed: DeployedCatalog? = nil) {
        self.catalog = catalog
        self.features = features
        self.prefer = prefer
        self.deployed = deployed
    }

    /// For every feature whose effective models are failing (`failing`: providers, and models as
    /// `provider/model`): drop those models, keeping order; if none is left, the best equivalent
    /// that the feature may select and that is neither failing nor in `avoid` (subjects whose
    /// probes do not show health): the same model first, then one of the same `family`; by
    /// `prefer`, then file order. If there is none, leave the feature alone and say why. Unmanaged
    /// models are never dropped nor chosen. `base` gives, for keys the agent owns, the value
    /// before it first changed them, so a plan always starts from what people configured.
    public func plan(current: ModelOverride, failing: Set<String>, base: [String: [String]?] = [:], avoid: Set<String> = []) -> Plan {
        var result = Plan(failing: failing.sorted(), changes: [], untouched: [], taggedOnFailing: [], override: current)
        for feature in features {
            for (tag, model) in feature.modelsForTags where catalog.isOn(model, failing) {
                result.taggedOnFailing.append(.init(feature: feature.setting, tag: tag, model: model))
            }
            let configured = base[feature.setting] ?? current[feature.setting]
            let effective = configured ?? feature.defaultModels
            let dropped = effective.filter { catalog.isOn($0, failing) }
            // What is kept must be served by the deployed image too: the override names nothing else.
            var desired = effective.filter { !dropped.contains($0) && (dropped.isEmpty || deployable($0, feature.setting)) }
            var reason = dropped.isEmpty ? "" : "drop \(dropped.joined(separator: ", ")) (\(failingWhat(dropped, failing)) failing)"
            if desired.isEmpty {
                guard let (equivalent, why) = equivalent(for: effective, in: feature, avoiding: failing.union(avoid)) else {
                    if !dropped.isEmpty {
                        let why =
                            feature.canFailOver
                            ? "every model is failing and no healthy equivalent is in selectable_models"
                                + (deployed.map { " and served by the deployed gateway (\($0.source))" } ?? "")
                            : "its only selectable model is \(feature.selectableModels[0]): no failover is possible"
                        result.untouched.append(.init(feature: feature.setting, reason: why))
                    }
                    continue
                }
                desired = [equivalent]
                reason += "; use \(equivalent), \(why) on \(catalog[equivalent]?.provider ?? "?")"
            }
            let after: [String]? = dropped.isEmpty ? configured : desired
            guard after != current[feature.setting] else { continue }
            result.changes.append(
                .init(
                    feature: feature.setting, before: current[feature.setting],
                    effectiveBefore: current[feature.setting] ?? feature.defaultModels, after: after,
                    reason: reason.isEmpty ? "restore the configured value" : reason))
            result.override[feature.setting] = after
        }
        // Keys the catalog does not know (a newer gateway's features): the agent never edits them, but says so.
        let known = Set(features.map(\.setting))
        for (key, models) in current.entries where !known.contains(key) {
            let onFailing = models.filter { catalog.isOn($0, failing) }
            guard !onFailing.isEmpty else { continue }
            result.untouched.append(
                .init(
                    feature: key,
                    reason:
                        "not a feature of unit_primitives.yml, so left alone, although it names \(onFailing.joined(separator: ", ")) on "
                        + "a failing provider"
                ))
        }
        return result
    }

    /// Why a failover of `subject` alone would write nothing to an override that follows
    /// `default_models`: every feature on it keeps it (its only selectable model, or nothing healthy
    /// can replace it), no feature uses it, or the catalog does not know it (a model, or a provider
    /// no model is on). nil when the failover changes something, and for a whole provider of the
    /// catalog (an override a person wrote may use it).
    public func whyFailoverIsEmpty(_ subject: String) -> String? {
        guard let model = Subject.model(subject) else {
            return catalog.providers.contains(subject) ? nil : "no model of the catalog is on \(subject): nothing to fail over"
        }
        guard catalog[model] != nil else { return "the catalog does not know \(model): nothing to fail over" }
        let plan = plan(current: ModelOverride(), failing: [subject])
        guard plan.isEmpty else { return nil }
        let reasons = plan.untouched.map { "\($0.feature): \($0.reason)" }
        return reasons.isEmpty ? "no feature uses \(model)" : reasons.joined(separator: "; ")
    }

    /// ``whyFailoverIsEmpty(_:)`` for each of `subjects` whose failover writes nothing.
    public func emptyFailovers(_ subjects: [String]) -> [String: String] {
        Dictionary(subjects.compactMap { s in whyFailoverIsEmpty(s).map { (s, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// Why a model is worth a probe of its own.
    public enum ProbeReason: Int, Sendable, Comparable {
        /// A default of some feature: its failure is what the agent acts on.
        case serves = 0
        /// A replacement the planner may choose: a failover must not land on it while it fails.
        case replaces = 1

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// The managed models worth probing, in catalog order: every feature's defaults, and every
    /// model the planner may choose in their place (the same model, or one of its family,
    /// selectable by the feature).
    public func modelsToProbe() -> [(model: String, reason: ProbeReason, features: [String])] {
        var reasons: [String: (reason: ProbeReason, features: [String])] = [:]
        func note(_ model: String, _ reason: ProbeReason, _ feature: String) {
            guard catalog[model]?.isManaged == true else { return }
            var entry = reasons[model] ?? (reason, [])
            entry.reason = min(entry.reason, reason)
            if !entry.features.contains(feature) { entry.features.append(feature) }
            reasons[model] = entry
        }
        for feature in features {
            for model in feature.defaultModels { note(model, .serves, feature.setting) }
            guard feature.canFailOver else { continue }
            let originals = feature.defaultModels.compactMap { catalog[$0] }
            for candidate in catalog.models where candidate.isManaged && feature.allows(candidate.id) {
                let alike = originals.contains {
                    $0.sameModel == candidate.sameModel || !Set($0.family).isDisjoint(with: candidate.family)
                }
                if alike && !feature.defaultModels.contains(candidate.id) { note(candidate.id, .replaces, feature.setting) }
            }
        }
        return catalog.models.compactMap { model in reasons[model.id].map { (model.id, $0.reason, $0.features) } }
    }

    /// The gateway's own checks (run only in its CI), done before any write: every id exists, no
    /// list is empty, and every default is selectable; with ``deployed`` known, every model of
    /// the keys in `changed` (nil: every key) is served by the deployed image. Returns the
    /// problems; empty means valid.
    public func validate(_ override: ModelOverride, changed: Set<String>? = nil) -> [String] {
        var problems: [String] = []
        for (setting, models) in override.entries {
            guard let feature = features.first(where: { $0.setting == setting }) else { continue }  // the gateway ignores unknown keys
            if models.isEmpty { problems.append("\(setting): empty list of models") }
            for model in models {
                if catalog[model] == nil {
                    problems.append("\(setting): unknown model \(model)")
                } else if !feature.allows(model) {
                    problems.append("\(setting): \(model) is not in its selectable_models")
                } else if let deployed, changed?.contains(setting) ?? true, !deployed.allows(model, for: setting) {
                    problems.append(
                        "\(setting): \(model) is not served by the deployed gateway (\(deployed.source)): "
                            + (deployed.models.contains(model)
                                ? "not in its selectable_models there" : "the deployed image does not know it"))
                }
            }
        }
        return problems
    }

    /// The best replacement for `models` (all failing) that `feature` may select, and why it is one.
    private func equivalent(for models: [String], in feature: Feature, avoiding failing: Set<String>) -> (String, String)? {
        let originals = models.compactMap { catalog[$0] }
        func rank(_ candidate: ModelInfo) -> Int? {
            guard let provider = candidate.provider, !catalog.isOn(candidate.id, failing), feature.allows(candidate.id),
                deployable(candidate.id, feature.setting)
            else { return nil }
            let same = originals.contains { $0.sameModel == candidate.sameModel }
            let family = originals.contains { !Set($0.family).isDisjoint(with: candidate.family) }
            guard same || family else { return nil }
            return (same ? 0 : 1000) + (prefer.firstIndex(of: provider) ?? prefer.count)
        }
        let ranked = catalog.models.enumerated().compactMap { index, model in rank(model).map { (rank: $0, index: index, model: model) } }
        guard let best = ranked.min(by: { ($0.rank, $0.index) < ($1.rank, $1.index) }) else { return nil }
        let same = best.rank < 1000
        let shared = originals.flatMap(\.family).first { best.model.family.contains($0) } ?? ""
        return (best.model.id, same ? "the same model" : "a model of the same family (\(shared))")
    }

    /// What is failing about `models`: their providers, or the models themselves.
    private func failingWhat(_ models: [String], _ failing: Set<String>) -> String {
        var seen: [String] = []
        for model in models {
            guard let provider = catalog[model]?.provider else { continue }
            let what = failing.contains(provider) ? provider : model
            if !seen.contains(what) { seen.append(what) }
        }
        return seen.joined(separator: ", ")
    }
}
