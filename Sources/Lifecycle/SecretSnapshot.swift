import Selection

/// The secret as an action plans from it, values only: its version, the override it holds, and
/// the agent's ownership record as recorded and as it stands.
public struct SecretSnapshot: Sendable, Equatable {
    /// 0 when the secret does not exist yet.
    public var version: Int
    /// That version is deleted: read as no override, written over with check-and-set on it.
    public var deleted: Bool
    public var current: ModelOverride
    /// As the metadata says.
    public var recorded: Ownership
    /// As it stands: a pending write resolved as happened (its redeploy still pending) or not (nothing pending).
    public var ownership: Ownership

    public init(version: Int, deleted: Bool, current: ModelOverride, recorded: Ownership, ownership: Ownership) {
        (self.version, self.deleted, self.current, self.recorded, self.ownership) = (version, deleted, current, recorded, ownership)
    }

    /// Owned keys a person changed since the agent wrote them.
    public var changedByOthers: [String] { ownership.keysChangedByOthers(in: current) }
}
