/// One check-and-set write of the secret over the version read, pure: its answer goes in — the
/// new version, a conflict, or none — and, where it may have landed unanswered, what the version
/// after the one written over holds. A write sent again whose first try landed unanswered meets
/// its own version: that is not a conflict. The write-ahead record comes before it, so whoever
/// reads the record settles a write whose outcome stays unknown.
public struct SecretWrite: Sendable, Equatable {
    public enum Answer: Sendable, Equatable {
        /// `recordAhead`: the write-ahead record is in the secret's metadata.
        case recorded
        /// `send`: written as this version.
        case written(version: Int)
        /// `send`: the secret had moved past the version read (check-and-set refused it).
        case conflict
        /// `send`: no answer after every try (the write may have landed).
        case lost(String)
        /// `readBack`: whether the version after the one written over is this write.
        case readBack(ours: Bool)
    }

    public enum Request: Sendable, Equatable {
        /// Record in the secret's metadata, before the write, what it is about to write over `over`.
        case recordAhead(over: Int)
        /// Write over `over` with check-and-set.
        case send(over: Int)
        /// Read the version after `over`: is it this write?
        case readBack(over: Int)
        /// It landed as `version`; `lost`: why its answer was not heard (then settled by reading).
        case landed(version: Int, lost: String?)
        /// Someone else wrote since the read: plan again from the secret as it is.
        case conflict
        /// Unanswered and not found: a write still on its way may land yet, so the write-ahead
        /// record stays for a later settlement.
        case unknown(String)
    }

    private enum Phase: Sendable, Equatable { case recordingAhead, sending, readingAfterConflict, readingAfterLoss(String), done(Request) }

    /// The version read and written over.
    public let over: Int
    private var phase = Phase.recordingAhead

    public init(over: Int) { self.over = over }

    public var request: Request {
        switch phase {
        case .recordingAhead: .recordAhead(over: over)
        case .sending: .send(over: over)
        case .readingAfterConflict, .readingAfterLoss: .readBack(over: over)
        case .done(let request): request
        }
    }

    /// Feeds back what the current request came to; returns the next one.
    @discardableResult
    public mutating func answered(_ answer: Answer) -> Request {
        phase =
            switch (phase, answer) {
            case (.recordingAhead, .recorded): .sending
            case (.sending, .written(let version)): .done(.landed(version: version, lost: nil))
            // A conflict may be this write's own first try, landed unanswered (the client tries again).
            case (.sending, .conflict): .readingAfterConflict
            case (.sending, .lost(let why)): .readingAfterLoss(why)
            case (.readingAfterConflict, .readBack(true)): .done(.landed(version: over + 1, lost: "resent, met its own version"))
            case (.readingAfterConflict, .readBack(false)): .done(.conflict)
            case (.readingAfterLoss(let why), .readBack(true)): .done(.landed(version: over + 1, lost: why))
            case (.readingAfterLoss(let why), .readBack(false)): .done(.unknown(why))
            default: .done(.unknown("the write was answered \(answer) while it was \(phase)"))
            }
        return request
    }
}
