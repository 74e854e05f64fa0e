import Agent
import Foundation
import HTTPServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Row 6 of the hardening review: the API refuses an unauthenticated or oversized request before
/// reading its body, and closes connections that go idle (half-sent requests included).
@Suite struct APILimitsTests {
    /// A plain TCP connection to 127.0.0.1, with a receive timeout.
    final class Raw: @unchecked Sendable {
        let fd: Int32
        init(port: Int, timeout: Int = 30) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            var limit = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        deinit { close(fd) }
        func send(_ text: String) { _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        /// No more to send: the peer reads end of file.
        func finishSending() { shutdown(fd, Int32(SHUT_WR)) }
        /// Everything until the peer closes or the timeout; nil when the timeout came first. The
        /// blocking `recv` runs on a thread of its own, never on Swift's cooperative pool.
        func readUntilClosed() async -> String? {
            await withCheckedContinuation { continuation in
                Thread { continuation.resume(returning: self.blockingRead()) }.start()
            }
        }

        private func blockingRead() -> String? {
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n == 0 { return String(decoding: data, as: UTF8.self) }
                if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? nil : String(decoding: data, as: UTF8.self) }
                data += buffer[0..<n]
            }
        }
    }

    func server(idle: Duration = .seconds(30)) async throws -> HTTPServer {
        var limits = AgentAPI.limits(token: "api-token")
        limits.idleTimeout = idle
        return try await HTTPServer.start(limits: limits) { request in .json(200, #"{"ok":true,"bytes":\#(request.body.count)}"#) }
    }

    @Test func anUnauthenticatedPostIsRefusedBeforeItsBodyIsRead() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }
        let raw = try Raw(port: server.port)
        raw.send("POST /pause HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n")  // and no body at all
        let answer = try #require(await raw.readUntilClosed(), "answered and closed without waiting for 300 MB")
        #expect(answer.hasPrefix("HTTP/1.1 401"))
        #expect(answer.contains("missing or wrong bearer token"))
    }

    @Test func anOversizedBodyIsRefusedEvenWithTheToken() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }
        let raw = try Raw(port: server.port)
        raw.send("POST /pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer api-token\r\nContent-Length: 300000000\r\n\r\n")
        #expect(await raw.readUntilClosed()?.hasPrefix("HTTP/1.1 413") == true)
        let chunked = try Raw(port: server.port)
        chunked.send("POST /pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer api-token\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<20 { chunked.send("1000\r\n" + String(repeating: "a", count: 4096) + "\r\n") }
        #expect(await chunked.readUntilClosed()?.hasPrefix("HTTP/1.1 413") == true)
        let fine = try Raw(port: server.port)
        fine.send("POST /pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer api-token\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        #expect(await fine.readUntilClosed()?.contains(#""bytes":2"#) == true)
    }

    @Test func aHalfSentRequestIsClosedWhenIdle() async throws {
        let server = try await server(idle: .milliseconds(300))
        defer { Task { await server.stop() } }
        // The socket's own 4 s receive timeout bounds the wait, timed on the reading thread: a busy
        // cooperative pool (other tests) cannot make the server look slow.
        let raw = try Raw(port: server.port, timeout: 4)
        raw.send("GET /status HTTP/1.1\r\nHost: x\r\n")  // never finished
        #expect(await raw.readUntilClosed() != nil, "closed by the server within 4 s, not left to the client's timeout")
    }
}
