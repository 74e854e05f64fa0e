import Health
import Testing

@Suite struct ProbeCapTests {
    @Test func startsArePacedSoNoMinuteHoldsMoreThanTheCap() {
        var cap = ProbeCap(policy: HealthPolicy())
        var starts: [Double] = []
        // Two endpoints of one provider that would each start every 0.25 s.
        for step in 0..<1200 {
            let t = Double(step) * 0.25
            for endpoint in ["a", "b"] where cap.earliest(endpoint: endpoint, provider: "vertex") <= t {
                cap.started(endpoint: endpoint, provider: "vertex", at: t)
                starts.append(t)
            }
        }
        let most = starts.map { s in starts.filter { $0 >= s && $0 < s + 60 }.count }.max()
        #expect(most == 120, "the provider's cap of 120 a minute, reached and never passed")
        #expect(starts.count <= 601)
    }

    @Test func eachEndpointHasItsOwnCap() {
        var policy = HealthPolicy()
        policy.probeCapPerEndpoint = 30
        var cap = ProbeCap(policy: policy)
        cap.started(endpoint: "a", provider: "vertex", at: 0)
        #expect(cap.earliest(endpoint: "a", provider: "vertex") == 2)
        #expect(cap.earliest(endpoint: "b", provider: "vertex") == 0.5, "another endpoint waits only for the provider's spacing")
        #expect(cap.earliest(endpoint: "c", provider: "bedrock") == -.infinity)
        #expect(cap.perMinute(interval: 5) == 12)
        #expect(cap.perMinute(interval: 0.1) == 30, "a cadence faster than the cap costs the cap")
    }

    @Test func aRetryAfterHoldsTheEndpointThatWasLimited() {
        var cap = ProbeCap(policy: HealthPolicy())
        cap.hold(endpoint: "sonnet", for: 30, at: 100)
        #expect(cap.earliest(endpoint: "sonnet", provider: "anthropic") == 130)
        #expect(cap.earliest(endpoint: "haiku", provider: "anthropic") == -.infinity, "limits are per model: the others go on")
        cap.hold(endpoint: "sonnet", for: 10, at: 101)
        #expect(cap.earliest(endpoint: "sonnet", provider: "anthropic") == 130, "a shorter wait never shortens a longer one")
        cap.hold(endpoint: "sonnet", for: 86_400, at: 200)
        #expect(cap.earliest(endpoint: "sonnet", provider: "anthropic") == 200 + ProbeCap.longestHold, "a day-long wait is bounded")
        #expect(ProbeCap.longestHold == 120)
    }
}
