/// What happened to a request whose answer was lost, and how reading settled it: the journal
/// records each one.
public struct Settlement: Sendable, Equatable, CustomStringConvertible {
    /// The request, e.g. `retry of job #3`.
    public var request: String
    /// Why its outcome was unknown (a 502, a timeout, a lost connection).
    public var lost: String
    /// What the read found: `carried out: …`, or `not carried out: sent again`.
    public var found: String

    public init(request: String, lost: String, found: String) {
        (self.request, self.lost, self.found) = (request, lost, found)
    }

    public var description: String { "\(request): answer lost (\(lost)); settled by reading: \(found)" }
}

/// What a request that must not happen twice does next, pure: the answers of its sends and of
/// the reads of whether it was carried out go in; the next request (send, read), a settlement
/// for the journal and how it ended come out. ``sendOnce(_:attempts:send:find:alreadyDone:describe:settled:)``
/// carries out what it says.
public struct SendOnceMachine: Sendable, Equatable {
    /// What the last request came to.
    public enum Answer: Sendable, Equatable {
        /// The send was answered: done.
        case answered
        /// The send's answer was lost (a 502, a timeout, a lost connection): it may have happened.
        case lost(String)
        /// The send was refused; `alreadyDone`: as done before (then read, like a lost answer).
        case refused(String, alreadyDone: Bool)
        /// The read found what the request would have made (so described), or nothing.
        case found(String?)
        /// The read failed.
        case readFailed(String)
    }

    public enum Next: Sendable, Equatable {
        case send
        /// Read whether it was carried out.
        case read
        /// Done: return what the last request gave (the send's answer, or what the read found).
        case done
        /// Refused as such: throw the refusal.
        case rethrow
        /// The truth cannot be read: the caller must assume it may have happened.
        case unknownOutcome(String)
        /// Never carried out, every attempt spent.
        case givenUp(String)
    }

    private enum Phase: Sendable, Equatable { case sending, readingAfterLoss(String), readingAfterRefusal(String) }

    public let request: String
    public let attempts: Int
    public private(set) var attempt = 1
    private var phase = Phase.sending

    public init(_ request: String, attempts: Int = 3) {
        (self.request, self.attempts) = (request, max(1, attempts))
    }

    /// What follows `answer`, and the settlement to record first (when a read settled a loss or a refusal).
    public mutating func next(after answer: Answer) -> (settlement: Settlement?, next: Next) {
        switch (phase, answer) {
        case (.sending, .answered): return (nil, .done)
        case (.sending, .lost(let why)):
            phase = .readingAfterLoss(why)
            return (nil, .read)
        case (.sending, .refused(_, alreadyDone: false)): return (nil, .rethrow)
        case (.sending, .refused(let why, alreadyDone: true)):
            // Refused as done before: by this agent's earlier try whose answer was lost, or by a person.
            phase = .readingAfterRefusal(why)
            return (nil, .read)
        case (.readingAfterRefusal, .readFailed(let error)):
            return (nil, .unknownOutcome("\(request): refused as already done, and reading failed: \(error)"))
        case (.readingAfterRefusal, .found(nil)): return (nil, .rethrow)
        case (.readingAfterRefusal(let why), .found(let found?)):
            return (Settlement(request: request, lost: why, found: "carried out before: \(found)"), .done)
        case (.readingAfterLoss(let lost), .readFailed(let error)):
            return (nil, .unknownOutcome("\(request): answer lost (\(lost)), and reading whether it was carried out failed: \(error)"))
        case (.readingAfterLoss(let lost), .found(let found?)):
            return (Settlement(request: request, lost: lost, found: "carried out: \(found)"), .done)
        case (.readingAfterLoss(let lost), .found(nil)):
            guard attempt < attempts else {
                return (
                    Settlement(request: request, lost: lost, found: "not carried out: given up"),
                    .givenUp("\(request): not carried out after \(attempts) attempts (last: \(lost))")
                )
            }
            attempt += 1
            phase = .sending
            return (Settlement(request: request, lost: lost, found: "not carried out: sent again"), .send)
        default:
            return (nil, .unknownOutcome("\(request): \(answer) cannot follow \(phase)"))
        }
    }
}

/// Carries out a request that must not happen twice (a job retry, an issue, a note, a variable)
/// as ``SendOnceMachine`` says: sends it; when its answer is lost (``ControlError/unknownOutcome(_:)``),
/// or when the server refuses it as already done, reads whether it was carried out before
/// anything else happens, and sends it again only when the read shows it was not — at most
/// `attempts` times in all.
///
/// - `find`: what the request would have made, read back (nil: not there).
/// - `alreadyDone`: a refusal that means "done before" (GitLab's 403 "Job is not retryable" for a
///   job retried already): settled by `find` too, and rethrown when `find` finds nothing.
/// - `describe`: how what was found is named in the settlement (`job #7`, `issue #3`).
/// - `settled`: told of each settlement (for the journal and the log).
/// Throws ``ControlError/unknownOutcome(_:)`` when the truth cannot be read: the caller must then
/// assume it may have happened.
public func sendOnce<T>(
    _ request: String, attempts: Int = 3,
    send: () async throws(ControlError) -> T,
    find: () async throws(ControlError) -> T?,
    alreadyDone: (ControlError) -> Bool = { _ in false },
    describe: (T) -> String,
    settled: (Settlement) async -> Void
) async throws(ControlError) -> T {
    var machine = SendOnceMachine(request, attempts: attempts)
    var next = SendOnceMachine.Next.send
    // What the last send or read gave, and the last refusal.
    var (last, refusal): (T?, ControlError?) = (nil, nil)
    while true {
        let answer: SendOnceMachine.Answer
        switch next {
        case .send:
            do {
                last = try await send()
                answer = .answered
            } catch .unknownOutcome(let why) {
                answer = .lost(why)
            } catch {
                refusal = error
                answer = .refused(error.description, alreadyDone: alreadyDone(error))
            }
        case .read:
            do {
                last = try await find()
                answer = .found(last.map(describe))
            } catch { answer = .readFailed(error.description) }
        case .done: if let last { return last } else { throw .unknownOutcome("\(request): done, with nothing to return") }
        case .rethrow: throw refusal ?? .unknownOutcome("\(request): refused, and the refusal not kept")
        case .unknownOutcome(let why): throw .unknownOutcome(why)
        case .givenUp(let why): throw .unavailable(why)
        }
        let (settlement, then) = machine.next(after: answer)
        if let settlement { await settled(settlement) }
        next = then
    }
}
