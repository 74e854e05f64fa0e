import CCurl
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Owns one libcurl multi handle and every easy handle, all on one dedicated thread that runs
/// `perform → info_read → poll`. Other threads only touch ``inbox`` and call `curl_multi_wakeup`
/// (safe from any thread, libcurl says), both under the inbox's lock: the loop marks the inbox
/// `closed` under that lock before `curl_multi_cleanup`, so no wakeup can reach a freed handle.
final class CurlMultiLoop: @unchecked Sendable {
    struct Submission {
        let id: UInt64
        let request: HTTPRequest
        let continuation: CheckedContinuation<HTTPExchange, Never>
    }
    struct Inbox {
        var submissions: [Submission] = []
        var cancellations: [UInt64] = []
        var stopping = false
        var nextID: UInt64 = 0
        /// The loop is (about to be) blocked in `curl_multi_poll` and needs a wakeup to see new work.
        var polling = false
        /// The multi handle is about to be freed: nobody may wake it any more.
        var closed = false
    }

    let inbox = Mutex(Inbox())
    private let multi: UnsafeMutableRawPointer
    private let caBundle: String?
    private var running: [UInt64: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private var thread = pthread_t()

    init(caBundle: String?, maxCachedConnections: Int) {
        _ = curlGlobalInit
        multi = curl_multi_init()
        self.caBundle = caBundle
        fa_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxCachedConnections)
        let owner = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread, nil,
            { owner in
                let loop = Unmanaged<CurlMultiLoop>.fromOpaque(owner!).takeRetainedValue()
                loop.run()
                return nil
            }, owner)
    }

    /// Queues work for the loop, waking it only if it sleeps in `curl_multi_poll`. False once stopping.
    func enqueue(_ change: (inout Inbox) -> Bool) -> Bool {
        inbox.withLock { inbox in
            guard !inbox.stopping, !inbox.closed, change(&inbox) else { return false }
            if inbox.polling { curl_multi_wakeup(multi) }
            inbox.polling = false
            return true
        }
    }

    /// Ends the loop: transfers in flight end as cancelled. Waits for the thread to finish.
    func stop() {
        let first = inbox.withLock { inbox in
            defer { inbox.stopping = true }
            if !inbox.stopping, !inbox.closed { curl_multi_wakeup(multi) }
            return !inbox.stopping
        }
        guard first else { return }
        pthread_join(thread, nil)
    }

    private func run() {
        while true {
            let (submissions, cancellations, stopping) = inbox.withLock { inbox in
                defer {
                    inbox.submissions.removeAll()
                    inbox.cancellations.removeAll()
                }
                return (inbox.submissions, inbox.cancellations, inbox.stopping)
            }
            for submission in submissions { start(submission) }
            for id in cancellations { finish(id, cancelled: true) }
            if stopping {
                for id in Array(running.keys) { finish(id, cancelled: true) }
                break
            }
            var active: Int32 = 0
            curl_multi_perform(multi, &active)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE else { continue }
                var owner: UnsafeMutableRawPointer?
                fa_easy_getinfo_pointer(message.pointee.easy_handle, CURLINFO_PRIVATE, &owner)
                guard let owner else { continue }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(owner).takeUnretainedValue()
                finish(transfer.id, code: message.pointee.data.result)
            }
            let idle = inbox.withLock { inbox in
                inbox.polling = inbox.submissions.isEmpty && inbox.cancellations.isEmpty && !inbox.stopping
                return inbox.polling
            }
            if idle { curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
        inbox.withLock { $0.closed = true }
        for handle in idleHandles { curl_easy_cleanup(handle) }
        curl_multi_cleanup(multi)
    }

    private func start(_ submission: Submission) {
        let easy = idleHandles.popLast() ?? curl_easy_init()!
        let transfer = CurlTransfer(
            id: submission.id, easy: easy, request: submission.request, caBundle: caBundle, continuation: submission.continuation)
        running[submission.id] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func finish(_ id: UInt64, code: CURLcode = CURLE_OK, cancelled: Bool = false) {
        guard let transfer = running.removeValue(forKey: id) else { return }
        let exchange =
            cancelled
            ? HTTPExchange(
                result: .failure(TransferFailure(kind: .cancelled, curlError: "CURLE_ABORTED_BY_CALLBACK", message: "cancelled")),
                timings: HTTPTimings())
            : transfer.exchange(code: code)
        curl_multi_remove_handle(multi, transfer.easy)
        curl_easy_reset(transfer.easy)
        idleHandles.append(transfer.easy)
        transfer.continuation.resume(returning: exchange)
    }
}

private let curlGlobalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()
