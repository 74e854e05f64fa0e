import ProbeResults

/// Every threshold the health machine and the probe scheduler use. Times are in seconds.
/// docs/health.md, "Health policy", gives each one's default and the reason for it.
public struct HealthPolicy: Sendable, Equatable {
    public var steadyInterval = 5.0
    public var confirmInterval = 2.0
    /// Probes of one provider in flight at once (confirmation probes may overlap a hanging one).
    public var maxInFlight = 64
    public var window = 60.0
    public var minSamples = 5
    public var tripErrorRate = 0.5
    public var tripConsecutive = 3.0
    public var clearErrorRate = 0.1
    public var clearConsecutive = 3
    public var minOutage = 30.0
    public var minHealthy = 180.0
    public var maxHealthy = 1800.0
    public var reflapWindow = 1800.0
    public var latencyMultiple = 4.0
    public var latencyFloor = 1.0
    public var latencyCeiling = 5.0
    public var baselineSamples = 100
    public var baselineMinSamples = 20
    /// The failure rate a provider may have for hours without a failover (noise retries absorb).
    public var brownoutBaseline = 0.15
    /// The sustained failure rate the brownout test is tuned to catch (a "minor" incident).
    public var brownoutRate = 0.25
    /// The CUSUM score at which a brownout trips; higher is quieter and slower.
    public var brownoutThreshold = 10.0
    /// How long a brownout must have lasted before it trips.
    public var brownoutMinDuration = 140.0
    /// How long a brownout must have lasted when the gateway's own traffic shows it (``ProviderHealth/observeTraffic(failures:of:window:endingAt:at:policy:)``).
    public var trafficMinDuration = 60.0
    /// Traffic evidence older than this no longer counts: the subject is judged on probes alone.
    /// The agent core sets it from its traffic source's `stale_after`.
    public var trafficStaleAfter = 120.0
    /// How long one traffic reading's counting window is (the source's `interval`); set by the agent core.
    public var trafficWindow = 30.0
    /// Probe cadence while brownout evidence accumulates.
    public var brownoutInterval = 1.0
    /// How long after a failure the brownout test keeps probing at `brownout_interval`.
    public var brownoutWatch = 30.0
    /// A restore needs the failure rate since recovery began shown below this with 99 % confidence.
    public var restoreErrorRate = 0.1
    /// Probes a recovery gets over its healthy time: 80, or half again what a restore needs at the
    /// least (``RecoveryEvidence/probesNeeded(below:)``) when `restore_error_rate` is low.
    public var recoveryProbes: Double { max(80, (1.5 * Double(RecoveryEvidence.probesNeeded(below: restoreErrorRate))).rounded(.up)) }
    /// Probe requests a minute to one provider, all its endpoints together (``ProbeCap``).
    public var probeCapPerProvider = 120.0
    /// Probe requests a minute to one endpoint (``ProbeCap``).
    public var probeCapPerEndpoint = 60.0
    public var blindQuorum = 0.5
    public var blindWindow = 30.0
    /// A probe that speaks for no provider: when set, blindness also needs it to fail.
    public var controlProvider: String?
    /// How much one failure of each class counts toward the error rate and the consecutive count.
    public var weights: [ProbeClass: Double] = [
        .slow: 1, .http5xx: 1, .overloaded: 1, .rateLimited: 0.5, .timeout: 1, .connect: 1, .tls: 1, .badBody: 1,
    ]

    public init() {}

    /// The weight of one result of class `resultClass`: 0 for `ok`, and always 0 for `auth` and
    /// `bad_request`, which are our fault and never count against a provider.
    public func weight(_ resultClass: ProbeClass) -> Double {
        resultClass == .ok || resultClass.isOurFault ? 0 : weights[resultClass] ?? 1
    }

    /// Classes that mean no HTTP answer arrived: what a broken prober network looks like.
    public static let transportClasses: Set<ProbeClass> = [.connect, .timeout, .tls]
}
