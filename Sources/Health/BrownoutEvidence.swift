#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Evidence that a provider fails more often than its noise: a one-sided CUSUM (Page's test) of the
/// log-likelihood ratio between a failure rate of `brownout_rate` and one of `brownout_baseline`.
/// Each probe adds its evidence, and the score never goes below zero, so it rises steadily while a
/// provider fails a third of its requests and stays near zero under ordinary noise. The test knows
/// how many probes it has seen: every probe is one step.
///
/// Only failures of full weight count: a rate limit (usually our own quota, weighted ½) is left to
/// the hard-outage rule. A run of failures in a row counts only its first three probes (the rest are left out): a run is what a short spike or a
/// hard outage looks like, and the hard-outage rule judges those; what is left is the evidence of
/// a rate of independent failures, which is what a brownout is.
public struct BrownoutEvidence: Sendable, Equatable {
    /// The CUSUM score: trips at `brownout_threshold`.
    public private(set) var score = 0.0
    /// When the score rose from zero after resting there a minute: the brownout's onset, as far as
    /// the evidence goes (a brief touch of zero inside a ragged brownout does not move it; a
    /// lone failure of noise that never built a score does not hold it). Evidence is dated so that
    /// the onset is the *latest* time its first failures may have happened (a traffic window by its end).
    public private(set) var since: Double?
    /// The *earliest* time the newest failing evidence may have happened: a failed probe's start, a
    /// failing traffic window's start. `latestFailure - since` is how long the brownout has been
    /// shown to last, whatever the lag of the evidence.
    public private(set) var latestFailure: Double?
    /// The highest score since `since`: an onset whose score never built up is not held.
    private var peak = 0.0
    private var zeroSince: Double?
    private var run = 0
    /// Counted probe outcomes of the last 10 s: "still failing".
    private var lastSeconds = SlidingSum(span: 10)
    /// The newest traffic window: whether it failed above the noise ("still failing" as far as traffic goes).
    private var newestWindow: (end: Double, failing: Bool)?
    /// Counted outcomes of the last `brownout_watch`: whether to keep probing closely.
    private var watched: SlidingSum?

    public init() {}

    public static func == (a: BrownoutEvidence, b: BrownoutEvidence) -> Bool {
        a.score == b.score && a.since == b.since && a.latestFailure == b.latestFailure
    }

    /// Adds one probe's evidence: `weight` is its failure weight (0 for a success, 1 for a failure).
    public mutating func add(weight: Double, startedAt: Double, policy: HealthPolicy) {
        let failed = weight >= 1
        run = failed ? run + 1 : 0
        // Beyond the third failure in a row a run says nothing more about a rate: left out.
        guard !failed || run <= 3 else { return }
        let counted = failed ? 1.0 : 0.0
        if failed && counted == 0 { return }
        if watched == nil { watched = SlidingSum(span: policy.brownoutWatch) }
        watched?.add(counted, at: startedAt)
        lastSeconds.add(counted, at: startedAt)
        step(failures: counted, trials: 1, at: startedAt, earliest: startedAt, policy: policy)
    }

    /// Adds the gateway's own requests over one window of `window` seconds ending at `end`:
    /// `failures` of `requests` failed (the binomial log-likelihood ratio), one window carrying at
    /// most a third of `brownout_threshold`, so no single window, however busy, trips the test on
    /// its own. The window's failures may have happened anywhere in it: its onset is dated by its
    /// end, its latest failure by its start.
    public mutating func add(failures: Double, of requests: Double, window: Double, endingAt end: Double, policy: HealthPolicy) {
        guard requests > 0 else { return }
        if end >= newestWindow?.end ?? -.infinity { newestWindow = (end, failures >= policy.brownoutBaseline * requests) }
        step(
            failures: min(failures, requests), trials: requests, at: end, earliest: end - window, policy: policy,
            bound: policy.brownoutThreshold / 3)
    }

    private mutating func step(
        failures: Double, trials: Double, at t: Double, earliest: Double, policy: HealthPolicy, bound: Double = .infinity
    ) {
        let p0 = policy.brownoutBaseline
        let p1 = policy.brownoutRate
        let step = min(bound, max(-bound, failures * log(p1 / p0) + (trials - failures) * log((1 - p1) / (1 - p0))))
        if score == 0, step > 0, since == nil || peak < 1 || zeroSince.map({ t - $0 >= 60 }) == true {
            since = t
            peak = 0
        }
        // Failing above the noise: this evidence is part of the brownout.
        if failures > p0 * trials { latestFailure = max(latestFailure ?? earliest, earliest) }
        score = min(max(0, score + step), policy.brownoutThreshold + 1)  // bounded: once a brownout ends, a few successes bring it under
        peak = max(peak, score)
        if score > 0 {
            zeroSince = nil
        } else if zeroSince == nil {
            zeroSince = t
        }
    }

    /// A sustained rate of failures beyond the noise is shown, for at least `brownout_min_duration`
    /// (a brownout of a minute or two is over before a redeploy could land), counted from its onset
    /// to its newest failing evidence — not to now, so evidence that arrives late (a lagging
    /// traffic window) never makes a burst that has ended look long enough. The failures must also
    /// still be there: the probes of the last 10 s fail at `brownout_baseline` or more, and so does
    /// the newest traffic window.
    public func tripped(_ policy: HealthPolicy, minDuration: Double? = nil) -> Bool {
        guard score >= policy.brownoutThreshold, let since, let latestFailure else { return false }
        return latestFailure - since >= minDuration ?? policy.brownoutMinDuration
            && lastSeconds.sum >= policy.brownoutBaseline * lastSeconds.trials && newestWindow?.failing != false
    }

    /// Evidence to watch closely, so it is decided sooner either way: a score above zero (one
    /// failure is enough to look closer), or failures over the last `brownout_watch` at half of
    /// `brownout_baseline` or more (out of at least 20 probes), so a brownout whose walk touches
    /// zero stays watched while a provider failing 1 % soon goes back to the steady cadence.
    public func watching(_ policy: HealthPolicy, at now: Double) -> Bool {
        guard let watched else { return false }
        return score > 0 || watched.sum >= policy.brownoutBaseline / 2 * max(watched.trials, 20)
    }

    public mutating func reset() {
        score = 0
        since = nil
        latestFailure = nil
        newestWindow = nil
        peak = 0
        zeroSince = nil
        run = 0
        lastSeconds = SlidingSum(span: lastSeconds.span)
        watched = nil
    }
}

/// Weights over the last `span` seconds: how many trials, and their sum (failures count 1, or their weight).
struct SlidingSum: Sendable {
    var span: Double
    private var entries: [(t: Double, weight: Double, trials: Double)] = []
    private var head = 0
    private(set) var sum = 0.0
    private(set) var trials = 0.0

    init(span: Double) { self.span = span }

    var count: Int { entries.count - head }

    mutating func add(_ weight: Double, trials: Double = 1, at t: Double) {
        entries.append((t, weight, trials))
        sum += weight
        self.trials += trials
        while head < entries.count, entries[head].t < t - span {
            sum -= entries[head].weight
            self.trials -= entries[head].trials
            head += 1
        }
        if head > 1024, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}

/// The probes of a recovery over its last `min_healthy` (as escalated): a restore needs their
/// failure rate shown below `restore_error_rate` with 99 % confidence (the Wilson score bound), so
/// health is shown throughout, not assumed from a lucky streak or averaged with the outage.
public struct RecoveryEvidence: Sendable, Equatable {
    private var window = SlidingSum(span: .infinity)

    public init() {}

    public var count: Int { window.count }
    public var failures: Double { window.sum }

    public static func == (a: RecoveryEvidence, b: RecoveryEvidence) -> Bool { a.count == b.count && a.failures == b.failures }

    public mutating func add(weight: Double, at t: Double, keeping span: Double) {
        window.span = span
        window.add(weight, at: t)
    }

    public func showsRateBelow(_ rate: Double) -> Bool {
        guard count > 0 else { return false }
        return Self.upperBound(failures: failures, of: Double(count)) < rate
    }

    /// The fewest probes, none failing, that show a failure rate below `rate` with 99 % confidence:
    /// fewer than this in `min_healthy` and no restore can ever happen.
    public static func probesNeeded(below rate: Double) -> Int {
        var n = 1
        while upperBound(failures: 0, of: Double(n)) >= rate, n < 1_000_000 { n += 1 }
        return n
    }

    /// The 99 % Wilson score upper bound of a failure rate.
    static func upperBound(failures: Double, of n: Double) -> Double {
        let p = min(1, max(0, failures) / n)
        let z = 2.326
        return (p + z * z / (2 * n) + z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / (1 + z * z / n)
    }
}
