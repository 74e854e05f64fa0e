import AgentCore
import Health
import Lifecycle
import Testing

@Suite struct DrillTests {
    /// 2026-12-01T00:00:00Z, a Tuesday.
    static let tuesdayMidnight = 1_796_083_200.0

    @Test func aWindowIsReadAndKeptInUTC() throws {
        let window = try DrillWindow(parsing: "Tue 09:00-12:00 UTC")
        #expect(window.description == "Tue 09:00-12:00 UTC")
        #expect(window.contains(Self.tuesdayMidnight + 9 * 3600))
        #expect(window.contains(Self.tuesdayMidnight + 11 * 3600 + 59 * 60))
        #expect(!window.contains(Self.tuesdayMidnight + 12 * 3600), "the end is not in it")
        #expect(!window.contains(Self.tuesdayMidnight + 86_400 + 10 * 3600), "Wednesday is not")
        let daily = try DrillWindow(parsing: "Mon,Thu 14:00-15:30 UTC")
        #expect(daily.days == [1, 4] && daily.length == 5400)
        #expect(try DrillWindow(parsing: "09:00-17:00 UTC").days.isEmpty)
    }

    @Test(arguments: ["Tue 09:00-12:00", "Tue 9-12 UTC", "Tue 12:00-09:00 UTC", "Tues 09:00-12:00 UTC", "Tue 09:00-25:00 UTC"])
    func aBadWindowSaysWhy(_ text: String) {
        #expect(throws: DrillWindowError.self) { try DrillWindow(parsing: text) }
    }

    @Test func aDrillIsDueEveryIntervalInsideItsWindowOnceAWindow() throws {
        let drill = DrillSettings(provider: "vertex", every: 7 * 86_400, window: try DrillWindow(parsing: "Tue 09:00-12:00 UTC"))
        let tuesday10 = Self.tuesdayMidnight + 10 * 3600
        #expect(drill.due(at: tuesday10, lastSuccess: nil, lastAttempt: nil))
        #expect(!drill.due(at: tuesday10 - 2 * 3600, lastSuccess: nil, lastAttempt: nil), "outside the window")
        #expect(!drill.due(at: tuesday10, lastSuccess: tuesday10 - 3 * 86_400, lastAttempt: nil), "succeeded three days ago")
        #expect(!drill.due(at: tuesday10 + 3600, lastSuccess: nil, lastAttempt: tuesday10), "one attempt per window")
        #expect(drill.due(at: tuesday10 + 7 * 86_400, lastSuccess: tuesday10, lastAttempt: tuesday10), "a week later")
    }

    /// The core starts a drill only while it leads, sees every provider healthy and owns nothing;
    /// a failure is paged once, the next success resolves it.
    @Test func theCoreStartsADrillOnlyWhenAllIsQuietAndPagesAFailureOnce() {
        var settings = AgentCore.Settings(targets: [(name: "aigw-staging", mode: .perform)])
        settings.drills = ["aigw-staging": DrillSettings(provider: "vertex", every: 86_400)]
        var core = AgentCore(settings: settings, providers: ["vertex", "anthropic"], policy: HealthPolicy())
        #expect(core.drillsDue(unixTime: Self.tuesdayMidnight).isEmpty, "not the leader")
        _ = core.handle(.leadership(true, leaderPaused: nil), at: 0)
        #expect(core.drillsDue(unixTime: Self.tuesdayMidnight).isEmpty, "the ownership records are not read yet")
        _ = core.handle(.ownershipRead(["aigw-staging": .success([])]), at: 1)
        _ = core.handle(.paused(true), at: 2)
        #expect(core.drillsDue(unixTime: Self.tuesdayMidnight).isEmpty, "paused")
        _ = core.handle(.paused(false), at: 3)
        #expect(core.drillsDue(unixTime: Self.tuesdayMidnight).contains(.drill(target: "aigw-staging", provider: "vertex")))
        #expect(core.drillsDue(unixTime: Self.tuesdayMidnight + 60).isEmpty, "one under way")

        let failed = "drill of vertex on aigw-staging FAILED: failover refused: not ready"
        let first = core.handle(
            .drilled(target: "aigw-staging", succeeded: false, summary: failed, unixTime: Self.tuesdayMidnight + 100), at: 4)
        #expect(first.contains { if case .alert(let alert) = $0 { !alert.resolve } else { false } }, "the failure is paged")
        #expect(core.drillsDue(unixTime: Self.tuesdayMidnight + 200).isEmpty, "one attempt an hour")
        #expect(!core.drillsDue(unixTime: Self.tuesdayMidnight + 3800).isEmpty)
        let again = core.handle(
            .drilled(target: "aigw-staging", succeeded: false, summary: failed, unixTime: Self.tuesdayMidnight + 3900), at: 5)
        #expect(!again.contains { if case .alert = $0 { true } else { false } }, "the same failure is not paged again")
        _ = core.drillsDue(unixTime: Self.tuesdayMidnight + 7600)
        let success = core.handle(
            .drilled(
                target: "aigw-staging", succeeded: true, summary: "drill of vertex on aigw-staging succeeded",
                unixTime: Self.tuesdayMidnight + 7700),
            at: 6)
        #expect(success.contains { if case .alert(let alert) = $0 { alert.resolve } else { false } }, "resolved")
        #expect(core.drillRecords["aigw-staging"]?.lastSuccess == Self.tuesdayMidnight + 7700)
    }
}
