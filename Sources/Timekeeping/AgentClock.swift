import Foundation

/// Time as the agent's executors wait on it — the loop's tick, following a deploy, polling the
/// gateway, leader election: the wall clock in production, a ``VirtualClock`` in tests, so a
/// story of hours runs in milliseconds and no test waits on the machine's speed.
public protocol AgentClock: Sendable {
    /// Time since the clock's origin.
    var elapsed: Duration { get }
    /// The calendar time now, in seconds since 1970 (credentials' expiry dates are calendar dates).
    var unixTime: Double { get }
    /// Returns once `duration` has passed on this clock; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

extension AgentClock {
    /// ``elapsed`` in seconds.
    public var seconds: Double { Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18 }
}

/// The machine's monotonic clock (`ContinuousClock`), from the moment the value is made.
public struct WallClock: AgentClock {
    private let origin = ContinuousClock.now

    public init() {}

    public var elapsed: Duration { .now - origin }

    public var unixTime: Double { Date().timeIntervalSince1970 }

    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
