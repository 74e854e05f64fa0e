import Health
import ProbeResults

/// When each endpoint is probed next (pure): one stream per endpoint on the scheduler's cadence,
/// at most `max_in_flight` probes of one endpoint at a time, never beyond the probe cap
/// (``ProbeCap``); when the cap is short, endpoints whose subject is in question go first. An endpoint is one probe spec; its
/// subject (``Subject``) is the provider or model its results judge.
public struct ProbeStreams: Sendable {
    public struct Stream: Sendable {
        public var subject: String
        /// The subject's provider, whose cap it counts against (kept: the cadence looks at it for every stream, every turn).
        public let provider: String
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
    public private(set) var cap: ProbeCap

    /// `endpoints`: each probe's name and subject, in the order their first probes are spread.
    public init(endpoints: [(name: String, subject: String)], policy: HealthPolicy, stretch: [String: Double] = [:]) {
        scheduler = ProbeScheduler(policy: policy)
        cap = ProbeCap(policy: policy)
        let subjects = Dictionary(endpoints.map { ($0.name, $0.subject) }, uniquingKeysWith: { a, _ in a })
        for (name, at) in scheduler.firstProbes(endpoints.map(\.name)) {
            streams[name] = Stream(
                subject: subjects[name]!, provider: Subject.provider(subjects[name]!), nextStart: at, stretch: stretch[name] ?? 0)
        }
    }

    /// Endpoints whose next probe is due now and within the cap; each is marked started.
    public mutating func due(at now: Double, health: [String: ProviderHealth]) -> [String] {
        let waiting = streams.filter { $0.value.nextStart <= now && $0.value.inFlight < scheduler.policy.maxInFlight }
        let ordered = waiting.map {
            (name: $0.key, urgent: scheduler.inQuestion(health[$0.value.subject], at: now), at: $0.value.nextStart)
        }
        .sorted { ($0.urgent ? 0 : 1, $0.at, $0.name) < ($1.urgent ? 0 : 1, $1.at, $1.name) }
        var due: [String] = []
        for (name, _, _) in ordered {
            let provider = streams[name]!.provider
            guard cap.earliest(endpoint: name, provider: provider) <= now else { continue }
            cap.started(endpoint: name, provider: provider, at: now)
            streams[name]!.inFlight += 1
            streams[name]!.lastStart = now
            streams[name]!.nextStart = next(streams[name]!, now: now, health: health)
            due.append(name)
        }
        return due.sorted()
    }

    /// When a stream's next probe may start, within the cap (infinity while every stream has its
    /// probes in flight).
    public var nextStart: Double {
        var earliest = Double.infinity
        for (name, stream) in streams where stream.inFlight < scheduler.policy.maxInFlight {
            earliest = min(earliest, max(stream.nextStart, cap.earliest(endpoint: name, provider: stream.provider)))
        }
        return earliest
    }

    /// A probe of endpoint `name` outside the streams (a pre-flight) asks for a start: the earliest
    /// the cap allows from `now`, reserved for it. Returns that time.
    public mutating func reserve(_ name: String, at now: Double) -> Double {
        let provider = streams[name]?.provider ?? Subject.provider(name)
        let at = max(now, cap.earliest(endpoint: name, provider: provider))
        cap.started(endpoint: name, provider: provider, at: at)
        return at
    }

    /// A 429 of endpoint `name` asked for `seconds` of quiet: it is not probed before then (the
    /// provider's other endpoints are: limits are per model and location).
    public mutating func hold(_ name: String, for seconds: Double, at now: Double) { cap.hold(endpoint: name, for: seconds, at: now) }

    /// A probe of endpoint `name` ended: its cadence follows the health it led to.
    public mutating func completed(_ name: String, result: ProbeResult?, at now: Double, health: [String: ProviderHealth]) {
        guard var stream = streams[name] else { return }
        stream.inFlight -= 1
        if let result { stream.last = result }
        stream.nextStart = next(stream, now: now, health: health)
        streams[name] = stream
    }

    private func next(_ stream: Stream, now: Double, health: [String: ProviderHealth]) -> Double {
        scheduler.nextStart(lastStart: stream.lastStart, now: now, health: health[stream.subject], stretch: stream.stretch)
    }
}
