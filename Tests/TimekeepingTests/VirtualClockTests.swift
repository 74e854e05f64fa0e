import Synchronization
import Testing
import Timekeeping

/// Who woke.
final class Woken: Sendable {
    private let names = Mutex<[String]>([])
    func append(_ name: String) { names.withLock { $0.append(name) } }
    var all: [String] { names.withLock { $0 } }
}

@Suite struct VirtualClockTests {
    /// Sleepers that went to sleep in any order wake in deadline order, each reading its deadline.
    @Test func orderedSleepersWakeInDeadlineOrder() async throws {
        let clock = VirtualClock(mode: .ordered)
        let woke = Woken()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, seconds) in [("c", 30), ("a", 10), ("b", 20), ("a2", 10)] {
                group.addTask {
                    try await clock.sleep(for: .seconds(seconds))
                    woke.append(name)
                }
            }
            await clock.sleepers(atLeast: 4)
            await clock.advance(to: .seconds(25))
            #expect(clock.woken == [.seconds(10), .seconds(10), .seconds(20)] && clock.sleepersWaiting == 1, "c sleeps on")
            await clock.advance(to: .seconds(60))
            try await group.waitForAll()
        }
        #expect(clock.woken == [.seconds(10), .seconds(10), .seconds(20), .seconds(30)])
        #expect(Set(woke.all) == ["a", "a2", "b", "c"])
        #expect(clock.elapsed == .seconds(60))
    }

    /// A cancelled sleeper wakes at once with `CancellationError`, and never at its deadline.
    @Test func aCancelledOrderedSleeperEndsAtOnce() async {
        let clock = VirtualClock(mode: .ordered)
        let sleeper = Task { try await clock.sleep(for: .seconds(100)) }
        await clock.sleepers(atLeast: 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.nextDeadline == nil && clock.elapsed == .zero)
    }

    /// Running ahead (the default): a sleep moves the clock to its end.
    @Test func aSleepRunsTheClockAhead() async throws {
        let clock = VirtualClock()
        try await clock.sleep(for: .seconds(90))
        #expect(clock.elapsed == .seconds(90) && clock.sleeps == 1 && clock.unixTime == clock.origin + 90)
    }
}
