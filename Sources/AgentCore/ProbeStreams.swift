import Health
import ProbeResults

/// When each endpoint is probed next (pure): one stream per endpoint on the scheduler's cadence,
/// at most `max_in_flight` probes of one endpoint at a time. An endpoint is one probe spec; its
/// subject (``Subject``) is the provider or model its results judge.
public struct ProbeStreams: Sendable {
    public struct Stream: Sendable {
        public var subject: String
        public var nextStart: Double
        public var lastStart = -Double.infinity
        public var inFlight = 0
        /// The last result, for `/status`.
        public var last: ProbeResult?
        /// Seconds added to the steady interval, to keep within the daily probe budget.
        public var stretch = 0.0
    }

    public let scheduler: ProbeScheduler
    public private(set) var streams: [String: Stream] = [:]

    /// `endpoints`: each probe's name and subject, in the order their first probes are spread.
    public init(endpoints: [(name: String, subject: String)], policy: HealthPolicy, stretch: [String: Double] = [:]) {
        scheduler = ProbeScheduler(policy: policy)
        let subjects = Dictionary(endpoints.map { ($0.name, $0.subject) }, uniquingKeysWith: { a, _ in a })
        for (name, at) in scheduler.firstProbes(endpoints.map(\.name)) {
            streams[name] = Stream(subject: subjects[name]!, nextStart: at, stretch: stretch[name] ?? 0)
        }
    }

    /// Endpoints whose next probe is due now; each is marked started.
    public mutating func due(at now: Double, health: [String: ProviderHealth]) -> [String] {
        let due = streams.filter { $0.value.nextStart <= now && $0.value.inFlight < scheduler.policy.maxInFlight }.map(\.key).sorted()
        for name in due {
            streams[name]!.inFlight += 1
            streams[name]!.lastStart = now
            streams[name]!.nextStart = next(streams[name]!, now: now, health: health)
        }
        return due
    }

    /// A probe of endpoint `name` ended: its cadence follows the health it led to.
    public mutating func completed(_ name: String, result: ProbeResult, at now: Double, health: [String: ProviderHealth]) {
        guard var stream = streams[name] else { return }
        stream.inFlight -= 1
        stream.last = result
        stream.nextStart = next(stream, now: now, health: health)
        streams[name] = stream
    }

    private func next(_ stream: Stream, now: Double, health: [String: ProviderHealth]) -> Double {
        scheduler.nextStart(lastStart: stream.lastStart, now: now, health: health[stream.subject], stretch: stream.stretch)
    }
}
