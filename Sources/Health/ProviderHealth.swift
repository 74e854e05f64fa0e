import ProbeResults

/// The hysteresis machine of one provider: `healthy → suspect → failing → recovering → healthy`.
/// Pure: observations in, decisions out; time comes in with each observation.
public struct ProviderHealth: Sendable, Equatable {
    public let provider: String
    public private(set) var state: HealthState = .healthy
    /// When the current suspicion began (the start of its first failed probe).
    public private(set) var suspectSince: Double?
    public private(set) var recoveringSince: Double?
    /// Start of the outage under way, kept while it lasts even once its first samples leave the window.
    public private(set) var outageSince: Double?
    public private(set) var lastRestore: Double?
    /// Trips soon after a restore raise this; each level doubles the healthy time a restore needs.
    public private(set) var escalation = 0
    public private(set) var consecutiveFailures = 0.0
    public private(set) var consecutiveSuccesses = 0
    public private(set) var brokenProbe: ProbeClass?
    public private(set) var baseline: LatencyBaseline
    /// The brownout test (a CUSUM of failures against the provider's noise).
    public private(set) var brownout = BrownoutEvidence()
    /// The brownout test on the gateway's own traffic and the probes together; only counts while
    /// traffic evidence is fresh, and a trip on it needs a probe failure since its onset too.
    public private(set) var trafficBrownout = BrownoutEvidence()
    /// When the latest traffic window ended (nil: none, or distrusted since).
    public private(set) var lastTraffic: Double?
    /// When the latest probe of full failure weight started.
    public private(set) var lastProbeFailure: Double?
    /// Probes while recovering, over the last `requiredHealthy`: a restore needs them to show health.
    public private(set) var recovery = RecoveryEvidence()
    /// This recovery has lasted `max_healthy` without a restore (paged once).
    private var overdue = false
    private var samples: [(t: Double, start: Double, weight: Double)] = []
    /// When the latest successful probe completed.
    private var lastAnswer = -Double.infinity
    private var head = 0

    public init(provider: String, policy: HealthPolicy) {
        self.provider = provider
        baseline = LatencyBaseline(capacity: policy.baselineSamples)
    }

    public static func == (a: ProviderHealth, b: ProviderHealth) -> Bool {
        a.provider == b.provider && a.state == b.state && a.suspectSince == b.suspectSince && a.recoveringSince == b.recoveringSince
            && a.escalation == b.escalation && a.sampleCount == b.sampleCount
    }

    /// Samples in the window.
    public var sampleCount: Int { samples.count - head }

    /// Weighted failures over samples in the window.
    public var errorRate: Double {
        guard sampleCount > 0 else { return 0 }
        return samples[head...].reduce(0) { $0 + $1.weight } / Double(sampleCount)
    }

    /// The outage now under way, if any: from the start of the earliest failed probe in the window
    /// such that the weighted error rate from it up to now is still at least `trip_error_rate`, with
    /// no clearing run since: `clear_consecutive` successes spanning at least one confirmation
    /// interval, or twice as many at any pace (so probing faster, as the brownout test does,
    /// neither shortens nor hides what a clearing run means). An old blip followed by successes is
    /// not an onset, however densely the failures after it were probed.
    public func currentOutage(_ policy: HealthPolicy) -> Outage? {
        var weight = 0.0
        var count = 0
        var failed = 0
        var successRun = 0
        var runEnd = 0.0
        var outage: Outage?
        let clearingSpan = policy.confirmInterval
        for sample in samples[head...].reversed() {
            if sample.weight > 0 {
                successRun = 0
            } else {
                if successRun == 0 { runEnd = sample.t }
                successRun += 1
            }
            if successRun >= policy.clearConsecutive, runEnd - sample.t >= clearingSpan || successRun >= 2 * policy.clearConsecutive {
                break
            }
            weight += sample.weight
            count += 1
            if sample.weight > 0 { failed += 1 }
            if sample.weight > 0, weight / Double(count) >= policy.tripErrorRate {
                outage = Outage(onset: sample.start, samples: count, failed: failed)
            }
        }
        return outage
    }

    /// An outage under way: its onset, the probes since, and how many of them failed.
    public struct Outage: Sendable, Equatable {
        public var onset: Double
        public var samples: Int
        public var failed: Int

        /// The share of probes failing since the onset is at least `rate` with 95 % confidence (the
        /// Wilson lower bound): a run of bad luck inside a brownout, a few dozen probes at 60 %, is
        /// not taken for an outage, while five failures out of five are.
        public func shows(_ rate: Double) -> Bool {
            let n = Double(samples)
            let p = Double(failed) / n
            let z = 1.645
            let lower = (p + z * z / (2 * n) - z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / (1 + z * z / n)
            return lower >= rate
        }
    }

    /// Seconds of healthy probing a restore needs now.
    public func requiredHealthy(_ policy: HealthPolicy) -> Double {
        min(policy.maxHealthy, policy.minHealthy * Double(1 << min(escalation, 16)))
    }

    /// The class the machine counts for `observation`: `ok` turns `slow` past the learned budget.
    public mutating func effectiveClass(_ observation: Observation, _ policy: HealthPolicy) -> ProbeClass {
        guard observation.resultClass == .ok, let ttfb = observation.ttfbMs else { return observation.resultClass }
        return ttfb > baseline.budgetMs(policy) ? .slow : .ok
    }

    /// Feeds one probe result.
    public mutating func observe(_ observation: Observation, policy: HealthPolicy) -> [HealthDecision] {
        let now = observation.completedAt
        var decisions: [HealthDecision] = []
        if observation.resultClass.isOurFault {
            if brokenProbe != observation.resultClass {
                brokenProbe = observation.resultClass
                decisions.append(.probeBroken(provider: provider, resultClass: observation.resultClass, at: now))
            }
            return decisions  // says nothing about the provider
        }
        if brokenProbe != nil {
            brokenProbe = nil
            decisions.append(.probeFixed(provider: provider, at: now))
        }
        let resultClass = effectiveClass(observation, policy)
        let weight = policy.weight(resultClass)
        if resultClass == .ok, state == .healthy, let ttfb = observation.ttfbMs { baseline.add(ttfb) }
        record(weight, at: now, start: observation.startedAt, policy: policy)
        brownout.add(weight: weight, startedAt: observation.startedAt, policy: policy)
        if lastTraffic != nil { trafficBrownout.add(weight: weight, startedAt: observation.startedAt, policy: policy) }
        if weight >= 1 { lastProbeFailure = observation.startedAt }
        if state == .recovering { recovery.add(weight: weight, at: observation.startedAt, keeping: requiredHealthy(policy)) }
        let outage = currentOutage(policy)
        outageSince = outage.map { min(outageSince ?? $0.onset, $0.onset) }
        if weight > 0 {
            consecutiveFailures += weight
            consecutiveSuccesses = 0
        } else {
            consecutiveFailures = 0
            consecutiveSuccesses += 1
        }
        transition(now: now, startedAt: observation.startedAt, outage: outage, policy: policy, into: &decisions)
        return decisions
    }

    /// Feeds the gateway's own requests to this subject over one window of `window` seconds that
    /// ended at `end` (the newest sample behind the counts, not the time they were read), as
    /// counts: `failures` of `requests` failed (the caller's own errors left out). They add to the
    /// brownout test only while healthy or suspect (a failed-over subject has no traffic; its
    /// recovery is probe-judged).
    /// `now`: when they were read (what the decisions are dated by).
    public mutating func observeTraffic(
        failures: Double, of requests: Double, window: Double, endingAt end: Double, at now: Double, policy: HealthPolicy
    ) -> [HealthDecision] {
        guard state == .healthy || state == .suspect, requests > 0 else { return [] }
        if lastTraffic.map({ end - $0 > policy.trafficStaleAfter }) ?? true { trafficBrownout = brownout }  // probes so far, then traffic
        lastTraffic = end
        trafficBrownout.add(failures: failures, of: requests, window: window, endingAt: end, policy: policy)
        var decisions: [HealthDecision] = []
        if trafficTripped(policy, at: now), let onset = trafficBrownout.since {
            outageSince = min(outageSince ?? onset, onset)
            fail(at: now, policy: policy, into: &decisions)
        }
        return decisions
    }

    /// Traffic is no longer evidence (its source is down, stale or implausible): judge on probes alone.
    public mutating func distrustTraffic() {
        trafficBrownout.reset()
        lastTraffic = nil
    }

    /// A brownout shown by traffic and probes together, for `traffic_min_duration` from its onset
    /// to its newest failing evidence, with fresh traffic and a probe failure since its onset (a
    /// metrics bug alone never fails anything over), and still under way: the probes started since
    /// the newest window ended fail at `brownout_baseline` or more (when there are 5 or more).
    func trafficTripped(_ policy: HealthPolicy, at now: Double) -> Bool {
        guard let last = lastTraffic, now - last <= policy.trafficStaleAfter, let since = trafficBrownout.since,
            let failure = lastProbeFailure, failure >= since
        else { return false }
        let after = samples[head...].filter { $0.start >= last }
        if after.count >= 5, Double(after.filter { $0.weight >= 1 }.count) < policy.brownoutBaseline * Double(after.count) { return false }
        return trafficBrownout.tripped(policy, minDuration: policy.trafficMinDuration)
    }

    private mutating func transition(
        now: Double, startedAt: Double, outage: Outage?, policy: HealthPolicy, into decisions: inout [HealthDecision]
    ) {
        let tripped = sampleCount >= policy.minSamples && errorRate >= policy.tripErrorRate && consecutiveFailures >= policy.tripConsecutive
        let clear = errorRate <= policy.clearErrorRate
        switch state {
        case .healthy, .suspect:
            // A brownout: a sustained rate of failures beyond the noise, shown by the CUSUM, for min_outage.
            if brownout.tripped(policy), let onset = brownout.since {
                outageSince = min(outageSince ?? onset, onset)
                fail(at: now, policy: policy, into: &decisions)
            } else if trafficTripped(policy, at: now), let onset = trafficBrownout.since {
                outageSince = min(outageSince ?? onset, onset)
                fail(at: now, policy: policy, into: &decisions)
            } else if state == .healthy {
                if consecutiveFailures > 0 {
                    suspectSince = startedAt
                    move(to: .suspect, at: now, into: &decisions)
                }
            } else if consecutiveFailures >= policy.tripConsecutive, let outage, let onset = outageSince,
                outage.samples >= policy.minSamples, outage.shows(policy.tripErrorRate), now - onset >= policy.minOutage
            {
                // An outage that has lasted min_outage, shown by min_samples probes, ending in a failure streak.
                fail(at: now, policy: policy, into: &decisions)
            } else if clear && consecutiveSuccesses >= policy.clearConsecutive && brownout.score == 0 {
                suspectSince = nil
                move(to: .healthy, at: now, into: &decisions)
            }
        case .failing:
            if consecutiveSuccesses >= policy.clearConsecutive {
                recoveringSince = now
                overdue = false
                recovery = RecoveryEvidence()
                brownout.reset()  // a relapse must show itself afresh
                trafficBrownout.reset()
                move(to: .recovering, at: now, into: &decisions)
            }
        case .recovering:
            // A relapse, hard or moderate, goes back to failing (the failover is still in place).
            if tripped || brownout.tripped(policy) {
                recoveringSince = nil
                move(to: .failing, at: now, into: &decisions)
            } else if let since = recoveringSince, now - since >= requiredHealthy(policy), clear,
                recovery.showsRateBelow(policy.restoreErrorRate)
            {
                recoveringSince = nil
                suspectSince = nil
                lastRestore = now
                overdue = false
                move(to: .healthy, at: now, into: &decisions)
                decisions.append(.restore(provider: provider, at: now))
            } else if let since = recoveringSince, !overdue, now - since >= policy.maxHealthy {
                overdue = true
                decisions.append(.restoreOverdue(provider: provider, since: since, at: now))
            }
        }
    }

    private mutating func fail(at now: Double, policy: HealthPolicy, into decisions: inout [HealthDecision]) {
        escalation = lastRestore.map { now - $0 < policy.reflapWindow } == true ? escalation + 1 : 0
        move(to: .failing, at: now, into: &decisions)
        decisions.append(.failover(provider: provider, at: now))
    }

    /// The agent restarted while this provider was failed over (its ownership record says so):
    /// carry on from `failing`, so it is restored after `min_healthy` of health and never failed
    /// over a second time.
    public mutating func resumeFailedOver(at now: Double) -> [HealthDecision] {
        guard state == .healthy || state == .suspect else { return [] }
        var decisions: [HealthDecision] = []
        suspectSince = nil
        outageSince = outageSince ?? now
        move(to: .failing, at: now, into: &decisions)
        return decisions
    }

    /// Drops a suspicion whose evidence is tainted (the prober was blind): back to healthy.
    public mutating func forgetSuspicion(at now: Double, policy: HealthPolicy) -> [HealthDecision] {
        guard state == .suspect else { return [] }
        var decisions: [HealthDecision] = []
        suspectSince = nil
        outageSince = nil
        consecutiveFailures = 0
        brownout.reset()
        trafficBrownout.reset()
        samples.removeAll()
        head = 0
        move(to: .healthy, at: now, into: &decisions)
        return decisions
    }

    private mutating func move(to next: HealthState, at now: Double, into decisions: inout [HealthDecision]) {
        decisions.append(.state(provider: provider, from: state, to: next, at: now))
        state = next
    }

    /// A failed probe overlapped by a success that answered after it started failed after that
    /// answer: its failure starts there (a long probe that times out just as an outage begins does
    /// not date the outage back by its whole wait).
    private mutating func record(_ weight: Double, at now: Double, start: Double, policy: HealthPolicy) {
        if weight > 0 {
            samples.append((now, max(start, lastAnswer), weight))
        } else {
            samples.append((now, start, weight))
            lastAnswer = max(lastAnswer, now)
        }
        while head < samples.count, samples[head].t < now - policy.window { head += 1 }
        if head > 256 && head * 2 > samples.count {
            samples.removeFirst(head)
            head = 0
        }
    }
}
