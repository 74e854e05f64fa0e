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

/// Carries out a request that must not happen twice (a job retry, an issue, a note, a variable):
/// sends it; when its answer is lost (``ControlError/unknownOutcome(_:)``), or when the server
/// refuses it as already done, reads whether it was carried out before anything else happens,
/// and sends it again only when the read shows it was not — at most `attempts` times in all.
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
    var lastLoss = ""
    for attempt in 1...max(1, attempts) {
        let lost: String
        do { return try await send() } catch .unknownOutcome(let why) {
            lost = why
        } catch {
            guard alreadyDone(error) else { throw error }
            // Refused as done before: by this agent's earlier try whose answer was lost, or by a person.
            let found: T?
            do { found = try await find() } catch {
                throw .unknownOutcome("\(request): refused as already done, and reading failed: \(error)")
            }
            guard let found else { throw error }
            await settled(Settlement(request: request, lost: error.description, found: "carried out before: \(describe(found))"))
            return found
        }
        let found: T?
        do { found = try await find() } catch {
            throw .unknownOutcome("\(request): answer lost (\(lost)), and reading whether it was carried out failed: \(error)")
        }
        if let found {
            await settled(Settlement(request: request, lost: lost, found: "carried out: \(describe(found))"))
            return found
        }
        lastLoss = lost
        let again = attempt < attempts
        await settled(Settlement(request: request, lost: lost, found: again ? "not carried out: sent again" : "not carried out: given up"))
    }
    throw .unavailable("\(request): not carried out after \(attempts) attempts (last: \(lastLoss))")
}
