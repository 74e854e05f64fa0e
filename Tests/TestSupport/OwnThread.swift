import Foundation

/// Runs CPU-bound test work (replays, long virtual-clock stories) on a thread of its own and
/// awaits it, so it never holds one of Swift's cooperative threads (two on CI) while other tests
/// wait there on their timers and I/O; the OS shares the cores between the threads instead.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
