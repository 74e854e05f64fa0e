import Health
import ProbeResults
import Testing

/// Verdicts per model and per provider (``HealthMonitor``), on a virtual clock.
@Suite struct VerdictTests {
    static let sonnet = "vertex/claude_sonnet_4_6_vertex"
    static let haiku = "vertex/claude_haiku_4_5_vertex"
    static let opus = "vertex/claude_opus_4_6_vertex"
    static let subjects = [sonnet, haiku, opus, "bedrock", "anthropic"]

    /// Rounds of one probe per subject, one second apart; `failing` says which fail in a round.
    static func run(
        _ feed: inout Feed, rounds: Int, failing: (_ subject: String, _ round: Int) -> Bool, subjects: [String] = subjects
    ) {
        for round in 0..<rounds {
            for subject in subjects {
                let bad = failing(subject, round)
                feed.decisions += feed.monitor.observe(
                    Observation(
                        provider: subject, resultClass: bad ? .http5xx : .ok, ttfbMs: bad ? nil : 300, startedAt: feed.now,
                        completedAt: feed.now + 0.1))
            }
            feed.now += 1
        }
    }

    @Test func oneFailingModelFailsOverThatModelOnly() {
        var feed = Feed(Self.subjects)
        Self.run(&feed, rounds: 300, failing: { subject, _ in subject == Self.sonnet })
        #expect(feed.actions("failover").map(\.0) == [Self.sonnet])
        #expect(feed.monitor.isDown(Self.sonnet))
        #expect(!feed.monitor.isDown(Self.haiku) && !feed.monitor.isDown("vertex"))
        #expect(feed.monitor.unhealthy == [Self.sonnet])
        Self.run(&feed, rounds: 1200, failing: { _, _ in false })
        #expect(feed.actions("restore").map(\.0) == [Self.sonnet])
    }

    @Test func mostModelsFailingIsOneProviderFailoverNotOnePerModel() {
        var feed = Feed(Self.subjects)
        Self.run(&feed, rounds: 300, failing: { subject, _ in subject.hasPrefix("vertex/") })
        #expect(feed.actions("failover").map(\.0) == ["vertex"], "one action for the provider, none per model")
        #expect(feed.monitor.state(of: "vertex") == .failing)
        #expect(feed.monitor.isDown(Self.haiku), "a model is down with its provider")
        #expect(feed.monitor.failedOverSubjects == ["vertex"])
        Self.run(&feed, rounds: 1200, failing: { _, _ in false })
        #expect(feed.actions("restore").map(\.0) == ["vertex"])
        #expect(feed.monitor.state(of: "vertex") == .healthy)
    }

    @Test func whenTheProviderClearsAModelStillFailingKeepsItsOwnFailover() {
        var feed = Feed(Self.subjects)
        Self.run(&feed, rounds: 300, failing: { subject, _ in subject.hasPrefix("vertex/") })
        Self.run(&feed, rounds: 1200, failing: { subject, _ in subject == Self.opus })
        #expect(feed.actions("failover").map(\.0) == ["vertex", Self.opus])
        let restores = feed.actions("restore")
        #expect(restores.map(\.0) == ["vertex"])
        let opusFailover = feed.actions("failover").last!.1
        #expect(opusFailover <= restores[0].1, "the model still failing is failed over before its provider is restored")
    }

    @Test func twoOfThreeModelsAreAProviderVerdictOneOfThreeIsNot() {
        var two = Feed(Self.subjects)
        Self.run(&two, rounds: 300, failing: { subject, _ in subject == Self.sonnet || subject == Self.haiku })
        #expect(two.actions("failover").map(\.0) == ["vertex"])
        var one = Feed(Self.subjects)
        Self.run(&one, rounds: 300, failing: { subject, _ in subject == Self.haiku })
        #expect(one.actions("failover").map(\.0) == [Self.haiku])
    }

    @Test func aModelsProviderProbeSpeaksForTheProvider() {
        // With a model-less probe of vertex, its models' own failures are model verdicts, never a provider one.
        let subjects = ["vertex", Self.sonnet, Self.haiku, "bedrock"]
        var feed = Feed(subjects)
        Self.run(&feed, rounds: 300, failing: { subject, _ in subject == Self.sonnet || subject == Self.haiku }, subjects: subjects)
        #expect(Set(feed.actions("failover").map(\.0)) == [Self.sonnet, Self.haiku])
        var outage = Feed(subjects)
        Self.run(&outage, rounds: 300, failing: { subject, _ in subject.hasPrefix("vertex") }, subjects: subjects)
        #expect(outage.actions("failover").map(\.0) == ["vertex"], "models failing with their provider are absorbed")
    }

    @Test func aProviderFailedOverBeforeARestartResumesThroughItsModels() {
        var feed = Feed(Self.subjects)
        feed.decisions += feed.monitor.resumeFailedOver("vertex", at: 0)
        #expect(feed.monitor.state(of: "vertex") == .failing)
        Self.run(&feed, rounds: 1500, failing: { _, _ in false })
        #expect(feed.actions("failover").isEmpty)
        #expect(feed.actions("restore").map(\.0) == ["vertex"])
    }

    @Test func subjectsNameTheirProviderAndModel() {
        #expect(Subject.key(provider: "vertex", model: "m_vertex") == "vertex/m_vertex")
        #expect(Subject.provider("vertex/m_vertex") == "vertex" && Subject.model("vertex/m_vertex") == "m_vertex")
        #expect(Subject.provider("bedrock") == "bedrock" && Subject.model("bedrock") == nil)
    }
}
