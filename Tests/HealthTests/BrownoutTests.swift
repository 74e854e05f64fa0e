import Health
import ProbeResults
import Testing

extension Feed {
    /// `seconds` of probes every `every` s of which one in `period` fails (spread out, never in a run).
    mutating func brownout(_ provider: String, failingOneIn period: Int, for seconds: Double, every: Double = 0.2) {
        var index = 0
        let end = now + seconds
        while now < end {
            probe(provider, index % period == 0 ? .http5xx : .ok, every: every)
            index += 1
        }
    }
}

/// The brownout test and the restore evidence on hand-fed probes and a virtual clock.
@Suite struct BrownoutTests {
    @Test func aSustainedThirdOfFailuresTripsWithinFourMinutes() {
        var feed = Feed()
        feed.probe("vertex", .ok, count: 30, every: 10)
        let onset = feed.now
        feed.brownout("vertex", failingOneIn: 3, for: 240)
        let failovers = feed.actions("failover")
        #expect(failovers.count == 1)
        #expect(failovers.first.map { $0.1 - onset } ?? .infinity <= 240)
        #expect(failovers.first.map { $0.1 - onset } ?? 0 >= HealthPolicy().brownoutMinDuration, "not before brownout_min_duration")
    }

    @Test func aQuarterTripsButNoiseOfOneInEightNeverDoes() {
        var quarter = Feed()
        quarter.brownout("vertex", failingOneIn: 4, for: 240)
        #expect(quarter.actions("failover").count == 1)
        var noise = Feed()
        noise.brownout("vertex", failingOneIn: 8, for: 4 * 3600)  // 12.5 % for four hours, probed closely
        #expect(noise.actions("failover").isEmpty)
        #expect(noise.monitor.state(of: "vertex") != .failing)
    }

    @Test func aBurstThatHasEndedIsNotActedOn() {
        var feed = Feed()
        feed.brownout("vertex", failingOneIn: 2, for: 115)  // two minutes of heavy errors, then healthy
        feed.probe("vertex", .ok, count: 600, every: 0.2)
        #expect(feed.actions("failover").isEmpty)
    }

    @Test func aRestoreWaitsUntilTheRateIsShownLowThroughoutMinHealthy() {
        var feed = Feed()
        feed.probe("vertex", .http5xx, count: 30, every: 2)
        #expect(feed.actions("failover").count == 1)
        feed.probe("vertex", .ok, count: 3, every: 2)
        #expect(feed.monitor.state(of: "vertex") == .recovering)
        feed.brownout("vertex", failingOneIn: 8, for: 1800, every: 2)  // 12.5 %: still not healthy
        #expect(feed.actions("restore").isEmpty, "a provider failing 12 % is never restored")
        feed.probe("vertex", .ok, count: 200, every: 2)
        #expect(feed.actions("restore").count == 1)
        #expect(feed.actions("failover").count == 1, "one failover and one restore per incident")
    }

    @Test func aModerateRelapseWhileRecoveringGoesBackToFailingWithoutASecondFailover() {
        var feed = Feed()
        feed.probe("vertex", .http5xx, count: 30, every: 2)
        feed.probe("vertex", .ok, count: 3, every: 2)
        #expect(feed.monitor.state(of: "vertex") == .recovering)
        feed.brownout("vertex", failingOneIn: 3, for: 300)
        #expect(feed.monitor.state(of: "vertex") == .failing)
        #expect(feed.actions("failover").count == 1)
        #expect(feed.actions("restore").isEmpty)
    }

    @Test func recoveryEvidenceKeepsOnlyTheHealthyTime() {
        var evidence = RecoveryEvidence()
        for index in 0..<120 { evidence.add(weight: index < 50 ? 1 : 0, at: Double(index), keeping: 60) }
        #expect(evidence.count == 61 && evidence.failures == 0)
        #expect(!evidence.showsRateBelow(0.05), "61 clean probes do not show a rate below 5 % with 99 % confidence")
        #expect(evidence.showsRateBelow(0.1))
    }
}
