import Synchronization

/// Virtual time for tests: it passes only while someone waits, and at once — a sleep moves the
/// clock to its end and returns (after yielding, so other tasks run). Sequential executors (a
/// deploy followed for 30 minutes, a gateway polled until its timeout) run on it in a blink with
/// their production settings. ``advance(by:)`` moves it without a sleep.
public final class VirtualClock: AgentClock {
    private let now = Mutex(Duration.zero)
    private let slept = Mutex(0)
    /// The calendar time at the origin.
    public let origin: Double

    /// `origin`: the calendar time the clock starts at (default 2026-12-01T00:00:00Z).
    public init(origin: Double = 1_795_996_800) { self.origin = origin }

    public var elapsed: Duration { now.withLock { $0 } }

    public var unixTime: Double { origin + Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18 }

    /// How many sleeps have returned: a test can tell how often an executor waited.
    public var sleeps: Int { slept.withLock { $0 } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        advance(by: duration)
        slept.withLock { $0 += 1 }
        await Task.yield()
        try Task.checkCancellation()
    }

    /// Moves the clock forward by `duration` (nothing when it is not positive).
    public func advance(by duration: Duration) {
        guard duration > .zero else { return }
        now.withLock { $0 += duration }
    }
}
