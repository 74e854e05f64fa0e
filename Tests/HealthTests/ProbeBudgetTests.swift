import Health
import Testing

@Suite struct ProbeBudgetTests {
    static let endpoints = [
        ProbeBudget.Endpoint(name: "anthropic", costPerProbe: 0.000_02, rank: 0),
        ProbeBudget.Endpoint(name: "sonnet_vertex", costPerProbe: 0.000_02, rank: 1),
        ProbeBudget.Endpoint(name: "sonnet_bedrock", costPerProbe: 0.000_02, rank: 2),
        ProbeBudget.Endpoint(name: "haiku_bedrock", costPerProbe: 0.000_02, rank: 2),
    ]

    static func total(_ intervals: [String: Double]) -> Double {
        endpoints.reduce(0) { $0 + ProbeBudget.perDay(costPerProbe: $1.costPerProbe, interval: intervals[$1.name]!) }
    }

    @Test func withinTheBudgetNothingIsStretched() throws {
        // 4 endpoints every 5 s at $0.00002: 4 × 17,280 × 0.00002 = $1.38 a day.
        let intervals = try #require(ProbeBudget.intervals(Self.endpoints, steady: 5, maxPerDay: 2))
        #expect(Set(intervals.values) == [5])
        #expect(abs(Self.total(intervals) - 1.3824) < 1e-9)
    }

    @Test func theLeastImportantAreStretchedFirst() throws {
        let intervals = try #require(ProbeBudget.intervals(Self.endpoints, steady: 5, maxPerDay: 1))
        #expect(intervals["anthropic"] == 5 && intervals["sonnet_vertex"] == 5, "defaults keep their cadence")
        #expect(intervals["sonnet_bedrock"]! > 5 && intervals["sonnet_bedrock"] == intervals["haiku_bedrock"])
        #expect(abs(Self.total(intervals) - 1) < 1e-6, "exactly at the budget: \(Self.total(intervals))")
    }

    @Test func moreImportantTiersStretchOnlyWhenTheLeastReachTheirLongest() throws {
        let intervals = try #require(ProbeBudget.intervals(Self.endpoints, steady: 5, maxPerDay: 0.5))
        #expect(intervals["sonnet_bedrock"] == ProbeBudget.longestInterval)
        #expect(intervals["sonnet_vertex"]! > 5 && intervals["anthropic"] == 5)
        #expect(Self.total(intervals) <= 0.5 + 1e-9)
    }

    @Test func anUnreachableBudgetIsRefused() {
        #expect(ProbeBudget.intervals(Self.endpoints, steady: 5, maxPerDay: 0.001) == nil)
        #expect(ProbeBudget.intervals(Self.endpoints, steady: 5, maxPerDay: nil)?.values.allSatisfy { $0 == 5 } == true)
    }
}
