/// Exponential backoff, the one the agent uses everywhere: each failure doubles the wait from
/// `initial` up to `maximum`; a success starts again from `initial`. Seconds.
public struct Backoff: Sendable, Equatable {
    public let initial: Double
    public let maximum: Double
    /// The wait after the next failure.
    public private(set) var current: Double

    public init(initial: Double, maximum: Double) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// A failure: returns how long to wait before trying again, and doubles the next wait.
    public mutating func failed() -> Double {
        defer { current = min(current * 2, maximum) }
        return current
    }

    public mutating func succeeded() { current = initial }
}
