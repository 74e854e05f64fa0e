import Selection

/// What settling a target comes to (pure): what an earlier action — of a replica that crashed or
/// lost the Lease, or of this one before a restart — left in the secret's ownership record.
/// `recorded` is the record as read; `standing`, the same once its pending write is resolved
/// against the secret's versions: happened (only what follows the write is owed) or not (nothing
/// is pending).
public enum Handover: Sendable, Equatable {
    /// Nothing is under way and nothing is owed.
    case nothing
    /// A restore was written and deployed, but its change request was never closed.
    case closeChangeRequest(provider: String, iid: Int)
    /// An action stopped before its secret write: its record is put back as it stands.
    case putBack(PendingAction, record: Ownership)
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

    public init(recorded: Ownership, standing: Ownership) {
        guard let pending = recorded.pending else {
            self = Self.unclosed(recorded).map { .closeChangeRequest(provider: $0.provider, iid: $0.iid) } ?? .nothing
            return
        }
        guard standing.pending != nil else {
            self = .putBack(pending, record: standing)
            return
        }
        self = .resume(
            Resumed(
                kind: ActionKind(rawValue: pending.action) ?? .failover, pending: pending, record: standing == recorded ? nil : standing,
                redeploys: pending.pipeline != 0, changeRequest: standing.changeRequests[pending.provider]))
    }

    /// A change request recorded for a provider the agent no longer owns, with nothing under way:
    /// its restore is done but for the closing (a failover records it only with its write).
    public static func unclosed(_ owned: Ownership) -> (provider: String, iid: Int)? {
        guard owned.pending == nil else { return nil }
        return owned.changeRequests.sorted { $0.key < $1.key }.first { !owned.providers.contains($0.key) }.map { ($0.key, $0.value) }
    }
}
