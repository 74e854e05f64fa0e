/// The gateway's own requests to one subject over one window, and how many of them failed
/// (the caller's own errors, such as `prompt_too_long`, left out of both).
public struct TrafficCount: Sendable, Equatable {
    public var requests: Double
    public var failures: Double

    public init(requests: Double, failures: Double) {
        self.requests = requests
        self.failures = failures
    }
}
