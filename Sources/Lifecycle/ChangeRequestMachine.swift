/// The change request of one action, pure: answers in, the next request out. A failover goes on
/// in one change request per incident (``ChangeRequestChoice``: the group's, its own from an
/// earlier attempt, the incident's found by its mark, or a new one); a restore closes it, or, for
/// all but a group's last target, notes its part. A note that cannot be written never blocks, but
/// the closing one, which is part of the close.
public struct ChangeRequestMachine: Sendable, Equatable {
    /// A comment on the change request.
    public enum Note: Sendable, Equatable {
        /// This target's part in the group's change request.
        case member
        /// Carried on in by a new attempt.
        case carriedOn
        /// This target is restored; the group's last target closes it.
        case restoredInGroup
        /// The provider is healthy again: closing.
        case closing
    }

    /// What the executor does next.
    public enum Request: Sendable, Equatable {
        /// Read the change request the secret's metadata records for the provider: ``Answer/recorded(_:)``.
        case readRecorded
        /// Record the group's change request for this target too.
        case recordGroup(Int)
        /// Find the incident's open change request by its mark: ``Answer/found(_:)``.
        case find
        /// Open one: ``Answer/opened(_:)``.
        case open
        /// Comment on change request `on`.
        case note(Note, on: Int)
        case close(Int)
        /// Forget the provider's change request in the ownership record.
        case forget
        /// Journal the step: gone on in (or closed) change request `iid`.
        case journal(Int)
        case finish(ActionMachine.Result)
    }

    public enum Answer: Sendable, Equatable {
        case recorded(Int?)
        case found(Int?)
        case opened(Int)
        case done
        /// The request failed, with why.
        case failed(String)
    }

    /// The project the change requests are in, for messages.
    public let project: String
    public private(set) var request: Request
    /// The change request gone on in, once known.
    public private(set) var iid: Int?
    private let group: Int?

    private init(project: String, request: Request, iid: Int?, group: Int?) {
        (self.project, self.request, self.iid, self.group) = (project, request, iid, group)
    }

    /// A failover's: `group` is the change request an earlier member of its group opened.
    public static func opening(project: String, group: Int?) -> ChangeRequestMachine {
        ChangeRequestMachine(project: project, request: .readRecorded, iid: nil, group: group)
    }

    /// A restore's, of change request `iid`: closed when `last` of its group, else noted.
    public static func closing(project: String, iid: Int, last: Bool) -> ChangeRequestMachine {
        ChangeRequestMachine(project: project, request: .note(last ? .closing : .restoredInGroup, on: iid), iid: iid, group: nil)
    }

    /// Feeds back what the current request came to; returns the next one.
    @discardableResult
    public mutating func answered(_ answer: Answer) -> Request {
        request = next(after: request, answer)
        return request
    }

    private mutating func next(after request: Request, _ answer: Answer) -> Request {
        switch (request, answer) {
        case (.readRecorded, .recorded(let recorded)):
            switch ChangeRequestChoice(recorded: recorded, group: group) {
            case .group(let shared):
                iid = shared
                return .recordGroup(shared)
            case .carryOn(let open):
                iid = open
                return .note(.carriedOn, on: open)
            case .findOrOpen: return .find
            }
        case (.recordGroup(let shared), .done): return .note(.member, on: shared)
        case (.find, .found(let found?)):
            iid = found
            return .note(.carriedOn, on: found)
        case (.find, .found(nil)): return .open
        case (.open, .opened(let opened)):
            iid = opened
            return .journal(opened)
        case (.find, .failed(let why)), (.open, .failed(let why)):
            return .finish(.failed("cannot open a change request in \(project): \(why)"))
        case (.note(.closing, let on), .done): return .close(on)
        case (.note(.closing, let on), .failed(let why)), (.close(let on), .failed(let why)):
            return .finish(.failed("cannot close change request \(project)#\(on): \(why)"))
        case (.note(.restoredInGroup, _), _), (.close, .done): return .forget
        case (.note(_, let on), _): return .journal(on)
        case (.forget, .done): return .journal(iid ?? 0)
        case (.journal, .done): return .finish(.done)
        case (.finish, _): return request
        default: return .finish(.failed("the change request step was answered \(answer) out of turn"))
        }
    }
}
