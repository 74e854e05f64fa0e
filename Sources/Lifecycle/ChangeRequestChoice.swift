/// Which change request a failover goes on in (pure): one incident, one change request, however
/// many targets, attempts and replicas it takes.
public enum ChangeRequestChoice: Sendable, Equatable {
    /// The group's, opened by an earlier member: recorded for this target too, with a note of its part.
    case group(Int)
    /// This failover's own, opened by an earlier attempt (before a restart, or on another replica
    /// before a handover) and recorded in the secret's metadata: noted, and carried on in.
    case carryOn(Int)
    /// None is known: the incident's open one, found by its mark (an attempt that stopped before
    /// its write recorded it), is carried on in; else one is opened.
    case findOrOpen

    /// `recorded`: the change request the secret's metadata holds for the provider; `group`: the
    /// one an earlier member of the group opened in this action.
    public init(recorded: Int?, group: Int?) {
        if let recorded {
            self = .carryOn(recorded)
        } else if let group {
            self = .group(group)
        } else {
            self = .findOrOpen
        }
    }
}
