import Selection

/// What settling a target comes to (pure): what an earlier action — of a replica that crashed or
/// lost the Lease, or of this one before a restart — left in the secret's ownership record.
/// `recorded` is the record as read; `standing`, the same once its pending write is resolved
/// against the secret's versions: happened (only what follows the write is owed) or not (nothing
/// is pending). `healthy`: the subjects the agent has seen healthy — a change request nothing
/// follows any more is closed only for one of them (a failover decided again while the provider
/// fails, or before the agent has seen it, carries it on).
public enum Handover: Sendable, Equatable {
    /// Nothing is under way and nothing is owed.
    case nothing
    /// A restore was written and deployed, but its change request was never closed.
    case closeChangeRequest(provider: String, iid: Int)
    /// An action stopped before its secret write: its record is put back as it stands. `closing`:
    /// the change request its failover opened, for a provider healthy again: nothing follows it.
    case putBack(PendingAction, record: Ownership, closing: Int?)
    /// An action wrote the secret and owes what follows: resumed after its write.
    case resume(Resumed)

    /// An action resumed after its write.
    public struct Resumed: Sendable, Equatable {
        public var kind: ActionKind
        public var pending: PendingAction
        /// The record as it stands, to be written first (nil when it is already what was read).
        public var record: Ownership?
        /// Whether it owes the retry of its deploy job (one was checked before the write).
        public var redeploys: Bool
        /// The change request its failover opened, carried on in and closed by what follows.
        public var changeRequest: Int?
    }

    public init(recorded: Ownership, standing: Ownership, healthy: Set<String>) {
        guard let pending = recorded.pending else {
            self = Self.unclosed(recorded, healthy: healthy).map { .closeChangeRequest(provider: $0.provider, iid: $0.iid) } ?? .nothing
            return
        }
        guard standing.pending != nil else {
            let closing = Self.unclosed(standing, healthy: healthy).flatMap { $0.provider == pending.provider ? $0.iid : nil }
            self = .putBack(pending, record: standing, closing: pending.action == ActionKind.failover.rawValue ? closing : nil)
            return
        }
        self = .resume(
            Resumed(
                kind: ActionKind(rawValue: pending.action) ?? .failover, pending: pending, record: standing == recorded ? nil : standing,
                redeploys: pending.pipeline != 0, changeRequest: standing.changeRequests[pending.provider]))
    }

    /// A change request recorded for a provider the agent does not own, with nothing under way and
    /// the provider seen healthy: its restore is done but for the closing, or its failover stopped
    /// before the write and nothing follows it.
    public static func unclosed(_ owned: Ownership, healthy: Set<String>) -> (provider: String, iid: Int)? {
        guard owned.pending == nil else { return nil }
        return owned.changeRequests.sorted { $0.key < $1.key }.first { !owned.providers.contains($0.key) && healthy.contains($0.key) }
            .map { ($0.key, $0.value) }
    }
}
