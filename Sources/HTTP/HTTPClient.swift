import CCurl

/// The project's one HTTP client: libcurl's multi interface drives every transfer on one thread,
/// reusing connections; callers `await` results.
///
/// Call ``shutdown()`` when done: transfers still in flight end as cancelled.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// A PEM bundle of CA certificates to trust instead of the system's.
        public var caBundle: String?
        /// Idle connections kept open for reuse.
        public var maxCachedConnections: Int

        public init(caBundle: String? = nil, maxCachedConnections: Int = 256) {
            self.caBundle = caBundle
            self.maxCachedConnections = maxCachedConnections
        }
    }

    private let loop: CurlMultiLoop

    public init(configuration: Configuration = .init()) {
        loop = CurlMultiLoop(caBundle: configuration.caBundle, maxCachedConnections: configuration.maxCachedConnections)
    }

    /// Performs `request`. Never throws: a transfer that got no HTTP answer comes back as a
    /// ``TransferFailure`` in the exchange; task cancellation ends it as `.cancelled`.
    public func execute(_ request: HTTPRequest) async -> HTTPExchange {
        if Task.isCancelled { return Self.cancelled }
        let id = loop.inbox.withLock { inbox in
            inbox.nextID += 1
            return inbox.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let accepted = loop.enqueue { inbox in
                    inbox.submissions.append(.init(id: id, request: request, continuation: continuation))
                    return true
                }
                if !accepted { continuation.resume(returning: Self.cancelled) }
            }
        } onCancel: {
            _ = loop.enqueue { inbox in
                inbox.cancellations.append(id)
                return true
            }
        }
    }

    /// Stops the transfer thread; in-flight transfers end as cancelled.
    public func shutdown() { loop.stop() }

    private static let cancelled = HTTPExchange(
        result: .failure(TransferFailure(kind: .cancelled, curlError: "CURLE_ABORTED_BY_CALLBACK", message: "cancelled")),
        timings: HTTPTimings())
}
