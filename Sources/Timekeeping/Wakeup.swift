import Synchronization

/// A sleep that ends early: ``wait(until:on:)`` returns at a deadline on a clock or as soon as
/// ``raise()`` is called, whichever comes first. A raise while nobody waits is kept for the next
/// wait, so news that arrives between two waits is never missed. One waiter at a time.
public final class Wakeup: Sendable {
    private struct State {
        var raised = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    public init() {}

    /// Ends the current wait, or the next one.
    public func raise() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.raised = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at `deadline` (seconds on `clock`; never, for infinity), on ``raise()``, or when the task is cancelled.
    public func wait(until deadline: Double, on clock: any AgentClock) async {
        await withTaskGroup(of: Void.self) { group in
            if deadline.isFinite {
                group.addTask { try? await clock.sleep(for: .seconds(max(0, deadline - clock.seconds))) }
            }
            group.addTask { await self.raised() }
            await group.next()
            group.cancelAll()
        }
    }

    private func raised() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.raised {
                        state.raised = false
                        return true
                    }
                    if Task.isCancelled { return true }  // the raise, if one comes, is kept for the next wait
                    state.waiter = waiter
                    return false
                }
                if now { waiter.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
