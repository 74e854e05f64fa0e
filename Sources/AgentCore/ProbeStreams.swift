import Health
import ProbeResults

/// When each provider is probed next (pure): one stream per provider on the scheduler's cadence,
/// at most `max_in_flight` probes of one provider at a time.
public struct ProbeStreams: Sendable {
    public struct Stream: Sendable {
        public var nextStart: Double
        public var lastStart = -Double.infinity
        public var inFlight = 0
        /// The last result, for `/status`.
        public var last: ProbeResult?
    }

    public let scheduler: ProbeScheduler
    public private(set) var streams: [String: Stream] = [:]

    public init(providers: [String], policy: HealthPolicy) {
        scheduler = ProbeScheduler(policy: policy)
        for (provider, at) in scheduler.firstProbes(providers) { streams[provider] = Stream(nextStart: at) }
    }

    /// Providers whose next probe is due now; each is marked started.
    public mutating func due(at now: Double, health: [String: ProviderHealth]) -> [String] {
        let due = streams.filter { $0.value.nextStart <= now && $0.value.inFlight < scheduler.policy.maxInFlight }.map(\.key).sorted()
        for provider in due {
            streams[provider]!.inFlight += 1
            streams[provider]!.lastStart = now
            streams[provider]!.nextStart = scheduler.nextStart(lastStart: now, now: now, health: health[provider])
        }
        return due
    }

    /// A probe of `provider` ended: its cadence follows the health it led to.
    public mutating func completed(_ provider: String, result: ProbeResult, at now: Double, health: ProviderHealth?) {
        guard var stream = streams[provider] else { return }
        stream.inFlight -= 1
        stream.last = result
        stream.nextStart = scheduler.nextStart(lastStart: stream.lastStart, now: now, health: health)
        streams[provider] = stream
    }
}
