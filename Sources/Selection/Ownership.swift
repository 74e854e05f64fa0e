import ProbeResults

/// What the agent owns in one target's secret, so it can undo exactly its own change:
/// the providers it failed over, per key the value before its first write and after its last,
/// and the secret versions around its first and latest writes.
public struct Ownership: Sendable, Equatable {
    public struct Key: Sendable, Equatable {
        /// nil: the key was absent before the agent added it.
        public var before: [String]?
        public var after: [String]

        public init(before: [String]?, after: [String]) {
            self.before = before
            self.after = after
        }
    }

    public var providers: [String] = []
    public var keys: [String: Key] = [:]
    /// The version the agent read before its first write (its data is what people configured).
    public var baseVersion: Int?
    /// The version the agent's latest write created.
    public var writtenVersion: Int?

    public init() {}

    public var isEmpty: Bool { providers.isEmpty && keys.isEmpty }

    /// Owned keys whose current value is no longer what the agent wrote: a person changed them.
    public func keysChangedByOthers(in current: ModelOverride) -> [String] {
        keys.filter { current[$0.key] != $0.value.after }.map(\.key).sorted()
    }

    /// The before-values of keys still as the agent left them: the base to plan from.
    public func base(excluding changed: [String]) -> [String: [String]?] {
        var base: [String: [String]?] = [:]
        for (feature, key) in keys where !changed.contains(feature) { base[feature] = .some(key.before) }
        return base
    }

    /// Ownership after applying `plan` for `providers`: first before-values are kept, keys back at
    /// their before-value are no longer owned, and keys changed by others are let go.
    public func applying(_ plan: Plan, providers: [String], lettingGo changed: [String]) -> Ownership {
        var next = self
        next.providers = providers
        for feature in changed { next.keys[feature] = nil }
        for change in plan.changes {
            let before = keys[change.feature].map(\.before) ?? change.before
            if let after = change.after, after != before {
                next.keys[change.feature] = Key(before: before, after: after)
            } else {
                next.keys[change.feature] = nil
            }
        }
        if next.isEmpty {
            next.baseVersion = nil
            next.writtenVersion = nil
        }
        return next
    }

    // MARK: - Secret metadata (Vault `custom_metadata`: string values of at most 512 bytes)

    public static let metadataPrefix = "failover-agent/"

    /// The ownership as `custom_metadata` entries, one per owned key so each stays small; none when empty.
    public var metadata: [String: String] {
        var entries: [String: String] = [:]
        guard !isEmpty else { return entries }
        var state = ModelOverride([("providers", providers)])
        if let baseVersion { state["base_version"] = [String(baseVersion)] }
        if let writtenVersion { state["written_version"] = [String(writtenVersion)] }
        entries[Self.metadataPrefix + "state"] = state.json
        for (feature, key) in keys {
            var record = ModelOverride()
            if let before = key.before { record["before"] = before }
            record["after"] = key.after
            entries[Self.metadataPrefix + "key/" + feature] = record.json
        }
        return entries
    }

    /// Reads ownership back from `custom_metadata`; entries of others are ignored.
    public init(metadata: [String: String]) throws(ModelOverride.Malformed) {
        if let state = metadata[Self.metadataPrefix + "state"] {
            let fields = try ModelOverride.parse(state)
            providers = fields["providers"] ?? []
            baseVersion = fields["base_version"]?.first.flatMap { Int($0) }
            writtenVersion = fields["written_version"]?.first.flatMap { Int($0) }
        }
        for (name, value) in metadata where name.hasPrefix(Self.metadataPrefix + "key/") {
            let record = try ModelOverride.parse(value)
            guard let after = record["after"] else { continue }
            keys[String(name.dropFirst((Self.metadataPrefix + "key/").count))] = Key(before: record["before"], after: after)
        }
    }
}
