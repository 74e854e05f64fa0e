import Testing
import Timekeeping

@Suite struct WakeupTests {
    /// Nobody raises: the wait ends at its deadline, on the clock.
    @Test func aWaitEndsAtItsDeadline() async {
        let (clock, wakeup) = (VirtualClock(mode: .ordered), Wakeup())
        let waiting = Task { await wakeup.wait(until: 30, on: clock) }
        await clock.sleepers(atLeast: 1)
        #expect(clock.nextDeadline == .seconds(30))
        await clock.advance(to: .seconds(29))
        #expect(clock.sleepersWaiting == 1, "still asleep a second before")
        await clock.advance(to: .seconds(30))
        await waiting.value
        #expect(clock.elapsed == .seconds(30))
    }

    /// A raise ends the wait at once, long before its deadline, and the sleep on the clock is
    /// given up rather than left to wake later.
    @Test func aRaiseEndsTheWaitEarly() async {
        let (clock, wakeup) = (VirtualClock(mode: .ordered), Wakeup())
        let waiting = Task { await wakeup.wait(until: 3600, on: clock) }
        await clock.sleepers(atLeast: 1)
        wakeup.raise()
        await waiting.value
        #expect(clock.elapsed == .zero && clock.sleepersWaiting == 0)
    }

    /// A raise while nobody waits is kept: the next wait returns at once, and only that one.
    @Test func aRaiseBetweenWaitsIsKeptForTheNext() async {
        let (clock, wakeup) = (VirtualClock(mode: .ordered), Wakeup())
        wakeup.raise()
        await wakeup.wait(until: .infinity, on: clock)
        let waiting = Task { await wakeup.wait(until: 10, on: clock) }
        await clock.sleepers(atLeast: 1)
        #expect(clock.sleepersWaiting == 1, "the raise was spent on the first wait")
        await clock.advance(to: .seconds(10))
        await waiting.value
    }

    /// A cancelled waiter ends without a deadline or a raise.
    @Test func aCancelledWaitEnds() async {
        let (clock, wakeup) = (VirtualClock(mode: .ordered), Wakeup())
        let waiting = Task { await wakeup.wait(until: .infinity, on: clock) }
        try? await Task.sleep(for: .milliseconds(20))  // let it start waiting; it ends either way
        waiting.cancel()
        await waiting.value
        #expect(clock.elapsed == .zero)
    }
}
