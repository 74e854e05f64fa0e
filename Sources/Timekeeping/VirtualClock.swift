import Synchronization

/// Virtual time for tests and the simulation; it never reads the machine's clock.
///
/// As built (`.runsAhead`), time passes only while someone waits, and at once: a sleep moves the
/// clock to its end and returns (after yielding, so other tasks run). Sequential executors (a
/// deploy followed for 30 minutes, a gateway polled until its timeout, the agent's loop run one
/// turn at a time) run on it in a blink with their production settings.
///
/// `.ordered`: a sleep waits until ``advance(to:)`` passes its deadline; sleepers wake in deadline
/// order (ties in the order they went to sleep), the clock reading each one's deadline as it
/// wakes and its task resuming before the next wakes — as swift-nio's
/// `EmbeddedEventLoop` runs its scheduled tasks in order. For concurrent sleepers whose order matters.
public final class VirtualClock: AgentClock {
    public enum Mode: Sendable { case runsAhead, ordered }

    private struct Sleeper {
        var deadline: Duration
        var order: Int
        var wake: CheckedContinuation<Void, Never>
    }
    private struct State {
        var now = Duration.zero
        var slept = 0
        var sleepers: [Sleeper] = []
        var order = 0
        var cancelled: Set<Int> = []
        /// Deadlines of the sleepers woken, in the order they were.
        var woken: [Duration] = []
        /// Woken sleepers whose task has resumed.
        var resumed = 0
        /// Tasks waiting for that many sleepers (``sleepers(atLeast:)``) or resumed wakes.
        var sleeperWaiters: [(count: Int, wake: CheckedContinuation<Void, Never>)] = []
        var resumeWaiters: [(count: Int, wake: CheckedContinuation<Void, Never>)] = []

        /// Takes the waiters whose condition now holds.
        mutating func due() -> [CheckedContinuation<Void, Never>] {
            let (sleeping, resumed) = (sleepers.count, self.resumed)
            let ready =
                sleeperWaiters.filter { $0.count <= sleeping }.map(\.wake) + resumeWaiters.filter { $0.count <= resumed }.map(\.wake)
            sleeperWaiters.removeAll { $0.count <= sleeping }
            resumeWaiters.removeAll { $0.count <= resumed }
            return ready
        }
    }
    private let state = Mutex(State())
    /// The calendar time at the origin.
    public let origin: Double
    public let mode: Mode

    /// `origin`: the calendar time the clock starts at (default 2026-11-30T00:00:00Z).
    public init(origin: Double = 1_795_996_800, mode: Mode = .runsAhead) {
        self.origin = origin
        self.mode = mode
    }

    public var elapsed: Duration { state.withLock { $0.now } }

    public var unixTime: Double { origin + Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18 }

    /// How many sleeps have returned: a test can tell how often an executor waited.
    public var sleeps: Int { state.withLock { $0.slept } }

    /// The deadlines of the sleepers woken so far, in the order they were woken (`.ordered`).
    public var woken: [Duration] { state.withLock { $0.woken } }

    /// How many sleepers wait (`.ordered`).
    public var sleepersWaiting: Int { state.withLock { $0.sleepers.count } }

    /// Returns once at least `count` sleepers wait (`.ordered`): when `count` tasks share the
    /// clock, all of them are idle and the clock may move. Waits without spinning.
    public func sleepers(atLeast count: Int) async {
        await withCheckedContinuation { (wake: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.sleepers.count < count else { return true }
                state.sleeperWaiters.append((count, wake))
                return false
            }
            if now { wake.resume() }
        }
    }

    /// The earliest deadline a sleeper waits for (`.ordered`), if any.
    public var nextDeadline: Duration? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        guard mode == .ordered else {
            advance(by: duration)
            state.withLock { $0.slept += 1 }
            await Task.yield()
            return try Task.checkCancellation()
        }
        let order = state.withLock { state in
            defer { state.order += 1 }
            return state.order
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (wake: CheckedContinuation<Void, Never>) in
                let (woken, ready) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if state.cancelled.remove(order) != nil { return (true, []) }
                    state.sleepers.append(Sleeper(deadline: state.now + max(duration, .zero), order: order, wake: wake))
                    return (false, state.due())
                }
                for waiter in ready { waiter.resume() }
                if woken { wake.resume() }
            }
        } onCancel: {
            let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.sleepers.firstIndex(where: { $0.order == order }) else {
                    state.cancelled.insert(order)
                    return nil
                }
                return state.sleepers.remove(at: index).wake
            }
            wake?.resume()
        }
        let ready = state.withLock { state in
            state.slept += 1
            state.resumed += 1
            return state.due()
        }
        for waiter in ready { waiter.resume() }
        try Task.checkCancellation()
    }

    /// Moves the clock forward by `duration` (nothing when it is not positive), waking nobody.
    public func advance(by duration: Duration) {
        guard duration > .zero else { return }
        state.withLock { $0.now += duration }
    }

    /// Moves the clock to `deadline` (`.ordered`), waking each sleeper due by then in deadline
    /// order: the clock reads the sleeper's deadline as it wakes, and its task resumes before the
    /// next one wakes.
    public func advance(to deadline: Duration) async {
        while true {
            let due = state.withLock { state -> Sleeper? in
                guard
                    let index = state.sleepers.indices.min(by: {
                        (state.sleepers[$0].deadline, state.sleepers[$0].order) < (state.sleepers[$1].deadline, state.sleepers[$1].order)
                    }),
                    state.sleepers[index].deadline <= deadline
                else { return nil }
                let sleeper = state.sleepers.remove(at: index)
                state.now = max(state.now, sleeper.deadline)
                state.woken.append(sleeper.deadline)
                return sleeper
            }
            guard let due else { break }
            let before = state.withLock { $0.resumed }
            due.wake.resume()
            // The woken task resumes before the next sleeper wakes.
            await withCheckedContinuation { (wake: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    guard state.resumed <= before else { return true }
                    state.resumeWaiters.append((before + 1, wake))
                    return false
                }
                if now { wake.resume() }
            }
        }
        state.withLock { $0.now = max($0.now, deadline) }
    }
}
