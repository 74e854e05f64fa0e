import Lifecycle

/// What the agent has in hand across targets (pure): whether this replica leads, which targets'
/// ownership records are read, the providers they say are failed over, and when to read or settle
/// again after a failure (one ``Backoff`` each, up to a minute).
public struct Custody: Sendable {
    public private(set) var leading = false
    /// Targets whose ownership record is not read yet (Vault may be down when the agent starts).
    public private(set) var unread: Set<String> = []
    /// Providers failed over on some target, per the records read since taking the lead.
    public private(set) var owned: Set<String> = []
    /// The same, per target.
    public private(set) var ownedBy: [String: Set<String>] = [:]
    var reading = false
    var readAt = 0.0
    var readBackoff = Backoff(initial: 1, maximum: 60)
    /// Targets whose last action or settlement failed part-way: settled again at that time.
    var settleAt: [String: Double] = [:]
    var settleBackoff: [String: Backoff] = [:]

    let targets: [String]

    init(targets: [String]) { self.targets = targets }

    /// Took the lead (or started): every record is to be read again.
    mutating func tookTheLead() {
        unread = Set(targets)
        owned = []
        ownedBy = [:]
        readAt = 0
        readBackoff.succeeded()
    }

    mutating func lead(_ leading: Bool) { self.leading = leading }

    /// The targets to read now, if it is time and no read is under way.
    mutating func dueReads(at now: Double) -> [String]? {
        guard !unread.isEmpty, !reading, now >= readAt else { return nil }
        reading = true
        return unread.sorted()
    }

    /// The records read (providers failed over per target), or why a target could not be read.
    /// Returns the providers newly known as failed over, per target.
    mutating func read(_ found: [String: Result<[String], ReadFailure>], at now: Double) -> (
        owned: [(target: String, providers: [String])], failed: [(String, ReadFailure, Double)]
    ) {
        reading = false
        var newlyOwned: [(String, [String])] = []
        var failures: [(String, ReadFailure, Double)] = []
        for (target, result) in found.sorted(by: { $0.key < $1.key }) {
            switch result {
            case .success(let providers):
                unread.remove(target)
                owned.formUnion(providers)
                ownedBy[target] = Set(providers)
                if !providers.isEmpty { newlyOwned.append((target, providers)) }
            case .failure(let failure):
                failures.append((target, failure, readBackoff.current))
            }
        }
        if failures.isEmpty {
            readAt = now
            readBackoff.succeeded()
        } else {
            readAt = now + readBackoff.failed()
        }
        return (newlyOwned, failures)
    }

    /// Why a target's ownership record could not be read.
    public struct ReadFailure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    mutating func acted(_ kind: ActionKind, provider: String, target: String) {
        if kind == .failover {
            owned.insert(provider)
            ownedBy[target, default: []].insert(provider)
        } else {
            ownedBy[target]?.remove(provider)
            owned = Set(ownedBy.values.joined())
        }
    }

    /// A part-way failure: settle `target` again after its backoff. `nil` stops retrying.
    mutating func settleLater(_ target: String, failed: Bool, at now: Double) {
        guard failed, leading else {
            settleAt[target] = nil
            settleBackoff[target] = nil
            return
        }
        var backoff = settleBackoff[target] ?? Backoff(initial: 1, maximum: 60)
        settleAt[target] = now + backoff.failed()
        settleBackoff[target] = backoff
    }

    /// Settles each of `targets` at the next tick, unless one is already scheduled or under way:
    /// asked again before then, it is still one settlement.
    mutating func settleSoon(_ targets: [String], at now: Double) {
        for target in targets where settleAt[target] == nil { settleAt[target] = now }
    }

    /// When a read or a settlement is next due (infinity: none is).
    var nextDue: Double {
        let read = !unread.isEmpty && !reading ? readAt : .infinity
        return min(read, settleAt.values.min() ?? .infinity)
    }

    /// Targets due to be settled again; each is taken off the schedule until it reports back.
    mutating func dueSettles(at now: Double) -> [String] {
        let due = settleAt.filter { $0.value <= now }.map(\.key).sorted()
        for target in due { settleAt[target] = .infinity }
        return due
    }
}
