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
    /// The action under way, recorded before its side effects; nil when none is.
    public var pending: PendingAction?
    /// Provider → the change request issue (iid) opened for its failover, closed by its restore.
    public var changeRequests: [String: Int] = [:]

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
        var next = settled
        next.providers = providers
        for feature in changed { next.keys[feature] = nil }
        for change in plan.changes {
            let before = next.keys[change.feature].map(\.before) ?? change.before
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
}
