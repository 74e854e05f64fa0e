/// Probe starts per minute, as the probe cap counts them: the most any 60 s held, per provider
/// (all its endpoints) and per endpoint, and each provider's mean.
public struct ProbeTally: Sendable {
    private var recent: [String: [Double]] = [:]
    private var heads: [String: Int] = [:]
    /// Provider or endpoint → the most starts any minute held.
    public private(set) var maxPerMinute: [String: Int] = [:]
    public private(set) var startsByProvider: [String: Int] = [:]
    public private(set) var endpointsByProvider: [String: Set<String>] = [:]

    public init() {}

    mutating func record(endpoint: String, provider: String, at t: Double) {
        startsByProvider[provider, default: 0] += 1
        endpointsByProvider[provider, default: []].insert(endpoint)
        count("provider:" + provider, at: t)
        count("endpoint:" + endpoint, at: t)
    }

    /// The most starts of one provider's endpoints any minute held.
    public func maxPerProvider(_ provider: String) -> Int { maxPerMinute["provider:" + provider] ?? 0 }
    /// The most starts of one endpoint of `provider` any minute held.
    public func maxPerEndpoint(of provider: String) -> Int {
        (endpointsByProvider[provider] ?? []).map { maxPerMinute["endpoint:" + $0] ?? 0 }.max() ?? 0
    }
    /// The mean starts a minute of `provider` over `duration` seconds.
    public func meanPerMinute(_ provider: String, duration: Double) -> Double {
        Double(startsByProvider[provider] ?? 0) * 60 / max(duration, 1)
    }

    /// Starts in (t − 60 s, t]; the tolerance keeps a start exactly a minute earlier out despite rounding.
    private mutating func count(_ key: String, at t: Double) {
        recent[key, default: []].append(t)
        var head = heads[key] ?? 0
        let times = recent[key]!
        while head < times.count, times[head] <= t - 60 + 1e-6 { head += 1 }
        maxPerMinute[key] = max(maxPerMinute[key] ?? 0, times.count - head)
        if head > 4096 {
            recent[key]!.removeFirst(head)
            head = 0
        }
        heads[key] = head
    }
}
