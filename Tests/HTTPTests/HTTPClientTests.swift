import HTTP
import HTTPServer
import Testing

/// The libcurl client against real HTTP servers on 127.0.0.1.
@Suite struct HTTPClientTests {
    let client = HTTPClient()

    func withServer(_ handler: @escaping HTTPServer.Handler, _ body: (HTTPServer) async throws -> Void) async throws {
        let server = try await HTTPServer.start(handler: handler)
        do { try await body(server) } catch {
            await server.stop()
            client.shutdown()
            throw error
        }
        await server.stop()
        client.shutdown()
    }

    @Test func getReturnsStatusHeadersBodyAndTimings() async throws {
        try await withServer({ _ in .json(200, #"{"ok":true}"#, headers: [("x-served-by", "sandbox")], delay: .milliseconds(120)) }) {
            server in
            let exchange = await client.execute(HTTPRequest(url: server.baseURL + "/v1/models"))
            let response = try exchange.result.get()
            #expect(response.status == 200)
            #expect(response.bodyText == #"{"ok":true}"#)
            #expect(response.header("X-Served-By") == "sandbox")
            #expect(exchange.timings.firstByte >= 120)
            #expect(exchange.timings.total >= exchange.timings.firstByte)
            #expect(exchange.timings.connect > 0)
        }
    }

    @Test func postSendsMethodHeadersAndBody() async throws {
        try await withServer({ request in
            .json(201, #"{"method":"\#(request.method)","ct":"\#(request.header("content-type") ?? "")","body":\#(request.bodyText)}"#)
        }) { server in
            let request = HTTPRequest(
                method: "POST", url: server.baseURL + "/x", headers: [HTTPHeader("content-type", "application/json")],
                body: Array(#"{"n":1}"#.utf8))
            let response = try await client.execute(request).result.get()
            #expect(response.status == 201)
            #expect(response.bodyText == #"{"method":"POST","ct":"application/json","body":{"n":1}}"#)
        }
    }

    @Test func bodyOverTheCapIsTruncated() async throws {
        try await withServer({ _ in .respond(status: 200, body: [UInt8](repeating: 65, count: 100_000)) }) { server in
            let response = try await client.execute(HTTPRequest(url: server.baseURL, maxResponseBytes: 1000)).result.get()
            #expect(response.truncated)
            #expect(response.body.count == 1000)
        }
    }

    @Test func hangingServerTimesOut() async throws {
        try await withServer({ _ in .hang }) { server in
            let exchange = await client.execute(HTTPRequest(url: server.baseURL, timeout: .milliseconds(300)))
            guard case .failure(let failure) = exchange.result else {
                Issue.record("expected a failure")
                return
            }
            #expect(failure.kind == .timeout)
            #expect(failure.curlError == "CURLE_OPERATION_TIMEDOUT")
            #expect(exchange.timings.total >= 290 && exchange.timings.total < 2000)
        }
    }

    @Test func resetAndRefusedAreConnectFailures() async throws {
        try await withServer({ _ in .reset }) { server in
            guard case .failure(let reset) = await client.execute(HTTPRequest(url: server.baseURL)).result else {
                Issue.record("expected a failure")
                return
            }
            #expect(reset.kind == .connect)
        }
        let closed = try await HTTPServer.start { _ in .hang }
        let port = closed.port
        await closed.stop()
        let other = HTTPClient()
        defer { other.shutdown() }
        guard case .failure(let refused) = await other.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/")).result else {
            Issue.record("expected a failure")
            return
        }
        #expect(refused.kind == .connect)
        #expect(refused.curlError == "CURLE_COULDNT_CONNECT")
    }

    @Test func httpsToAPlainPortIsATLSFailure() async throws {
        try await withServer({ _ in .json(200, "{}") }) { server in
            let exchange = await client.execute(HTTPRequest(url: "https://127.0.0.1:\(server.port)/", timeout: .seconds(5)))
            guard case .failure(let failure) = exchange.result else {
                Issue.record("expected a failure")
                return
            }
            #expect(failure.kind == .tls)
        }
    }

    @Test func keepAliveReusesOneConnectionUnlessFreshIsAsked() async throws {
        try await withServer({ _ in .json(200, "{}") }) { server in
            for _ in 0..<5 { _ = try await client.execute(HTTPRequest(url: server.baseURL)).result.get() }
            #expect(server.acceptedConnections == 1)
            for _ in 0..<3 { _ = try await client.execute(HTTPRequest(url: server.baseURL, freshConnection: true)).result.get() }
            #expect(server.acceptedConnections == 4)
        }
    }

    @Test func manyConcurrentTransfersAllComplete() async throws {
        try await withServer({ request in .json(200, #"{"uri":"\#(request.uri)"}"#, delay: .milliseconds(20)) }) { server in
            let statuses = await withTaskGroup(of: String?.self) { group in
                for i in 0..<300 {
                    group.addTask { try? await client.execute(HTTPRequest(url: server.baseURL + "/\(i)")).result.get().bodyText }
                }
                return await group.reduce(into: Set<String>()) { $0.insert($1 ?? "failed") }
            }
            #expect(statuses.count == 300)
            #expect(!statuses.contains("failed"))
        }
    }

    @Test func cancellationEndsATransferPromptly() async throws {
        try await withServer({ _ in .hang }) { server in
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { await client.execute(HTTPRequest(url: server.baseURL, timeout: .seconds(120))) }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            guard case .failure(let failure) = await task.value.result else {
                Issue.record("expected a failure")
                return
            }
            #expect(failure.kind == .cancelled)
            #expect(clock.now - start < .seconds(60), "well before the 120 s timeout, however loaded the machine")
        }
    }

    @Test func shutdownCancelsTransfersInFlight() async throws {
        let server = try await HTTPServer.start { _ in .hang }
        let local = HTTPClient()
        let task = Task { await local.execute(HTTPRequest(url: server.baseURL, timeout: .seconds(30))) }
        try await Task.sleep(for: .milliseconds(100))
        local.shutdown()
        guard case .failure(let failure) = await task.value.result else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.kind == .cancelled)
        guard case .failure(let after) = await local.execute(HTTPRequest(url: server.baseURL)).result else {
            Issue.record("expected a failure")
            return
        }
        #expect(after.kind == .cancelled)
        await server.stop()
        client.shutdown()
    }
}

/// Row 16 of the hardening review: requests queued while the client shuts down never touch the
/// freed multi handle (a wakeup after `curl_multi_cleanup` was possible before). Bounded: 200 clients.
@Suite struct ShutdownRaceTests {
    @Test func enqueueingWhileShuttingDownIsSafe() async throws {
        let server = try await HTTPServer.start { _ in .hang }
        for _ in 0..<200 {
            let client = HTTPClient()
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { _ = await client.execute(HTTPRequest(url: server.baseURL, timeout: .seconds(5))) } }
                group.addTask { client.shutdown() }
            }
            guard case .failure(let failure) = await client.execute(HTTPRequest(url: server.baseURL)).result else {
                Issue.record("a request after shutdown must fail")
                break
            }
            #expect(failure.kind == .cancelled)
        }
        await server.stop()
    }
}
