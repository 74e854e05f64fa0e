import ProbeResults

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Draws probe outcomes from a scenario's behaviour, deterministically: the same seed gives the
/// same outcomes, and each endpoint has its own random stream.
public struct OutcomeSampler: Sendable {
    public struct Outcome: Sendable, Equatable {
        public var resultClass: ProbeClass
        /// First byte, when an answer came.
        public var ttfbMs: Double?
        /// How long the probe took, in seconds.
        public var duration: Double
    }

    public let scenario: Scenario
    public let probeTimeout: Double
    public let latencyBudget: Double
    private var streams: [String: SplitMix64]

    /// Failures other than timeouts answer after this long.
    public static let failureLatency = 0.1

    public init(scenario: Scenario, probeTimeout: Double = 10, latencyBudget: Double = 5) {
        self.scenario = scenario
        self.probeTimeout = probeTimeout
        self.latencyBudget = latencyBudget
        streams = Dictionary(uniqueKeysWithValues: scenario.providerNames.map { ($0, SplitMix64(seed: scenario.seed ^ fnv1a($0))) })
    }

    /// The outcome of a probe of `subject` (a provider, or a model on it) that starts at `t`.
    /// `stream` names the endpoint's own random stream (default: the subject's), so endpoints of
    /// one subject draw apart.
    public mutating func outcome(of subject: String, stream: String? = nil, at t: Double) -> Outcome {
        let name = stream ?? subject
        var rng = streams[name] ?? SplitMix64(seed: scenario.seed ^ fnv1a(name))
        defer { streams[name] = rng }
        let failureDraw = rng.nextDouble()
        let latencyDraw = rng.nextGaussian()
        guard scenario.networkUp(at: t), let behaviour = scenario.behaviour(of: subject, at: t) else {
            return Outcome(resultClass: .connect, duration: Self.failureLatency)
        }
        if failureDraw < behaviour.failureRate {
            if behaviour.failureClass == .timeout { return Outcome(resultClass: .timeout, duration: probeTimeout) }
            return Outcome(resultClass: behaviour.failureClass, ttfbMs: Self.failureLatency * 1000, duration: Self.failureLatency)
        }
        // Log-normal through p50 and p99: sigma = ln(p99/p50) / z(0.99).
        let sigma = max(0, log(behaviour.latencyP99 / behaviour.latencyP50) / 2.326_348)
        let ttfb = behaviour.latencyP50 * exp(sigma * latencyDraw)
        if ttfb >= probeTimeout { return Outcome(resultClass: .timeout, duration: probeTimeout) }
        return Outcome(resultClass: ttfb > latencyBudget ? .slow : .ok, ttfbMs: ttfb * 1000, duration: ttfb + 0.001)
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextDouble(), 0x1p-53)
        let u2 = nextDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// FNV-1a: a stable string hash (Swift's `Hasher` is seeded per process).
func fnv1a(_ text: String) -> UInt64 {
    text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}
