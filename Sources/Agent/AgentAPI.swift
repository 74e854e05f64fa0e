import ControlAPI
import HTTP
import HTTPServer
import Secrets

/// The agent's HTTP API. `GET /` (the HTML status page), `GET /status`, `GET /metrics` and
/// `GET /healthz` are open; approving,
/// rejecting, pausing and resuming need `Authorization: Bearer <token>`. On a follower, those go
/// to the leader (at the address it shares in the Lease) and its answer comes back.
public enum AgentAPI {
    /// Where a follower sends what only the leader may do.
    public struct Forwarding: Sendable {
        public var election: LeaderElection
        public var client: HTTPClient

        public init(election: LeaderElection, client: HTTPClient) {
            self.election = election
            self.client = client
        }
    }

    /// Marks a forwarded request, so it is never forwarded again.
    static let forwardedHeader = "x-failover-agent-forwarded"

    /// `metrics` renders the `/metrics` body (Prometheus text format).
    public static func handler(
        loop: AgentLoop, token: String, metrics: @escaping @Sendable () -> [UInt8] = { [] }, forwarding: Forwarding? = nil
    ) -> HTTPServer.AsyncHandler {
        { request in
            let path = String(request.uri.split(separator: "?", maxSplits: 1).first ?? "")
            let parts = path.split(separator: "/").map(String.init)
            switch (request.method, parts.count, parts.first) {
            case ("GET", 0, _):
                let page = StatusPage.render(await loop.status())
                return .respond(status: 200, headers: [("content-type", "text/html; charset=utf-8")], body: Array(Secrets.scrub(page).utf8))
            case ("GET", 1, "status"): return reply(200, await loop.status())
            case ("GET", 1, "healthz"): return .respond(status: 200, body: Array("ok\n".utf8))
            case ("GET", 1, "metrics"):
                return .respond(status: 200, headers: [("content-type", "text/plain; version=0.0.4")], body: metrics())
            default: break
            }
            guard request.method == "POST" else { return message(404, false, "no such endpoint") }
            guard authorized(request, token: token) else { return message(401, false, "missing or wrong bearer token") }
            if let forwarding, request.header(forwardedHeader) == nil, !forwarding.election.isLeader {
                return await forward(request, path: path, with: forwarding)
            }
            switch (parts.count, parts.first, parts.last) {
            case (3, "proposals", "approve"): return answer(await loop.approve(parts[1]))
            case (3, "proposals", "reject"): return answer(await loop.reject(parts[1]))
            case (1, "pause", _):
                await loop.setPaused(true)
                return message(200, true, "paused: probing and paging continue, no action is taken")
            case (1, "resume", _):
                await loop.setPaused(false)
                return message(200, true, "resumed")
            default: return message(404, false, "no such endpoint")
            }
        }
    }

    private static func forward(_ request: ServerRequest, path: String, with forwarding: Forwarding) async -> ServerReply {
        guard let leader = forwarding.election.leaderAddress else {
            return message(
                503, false,
                "this replica does not hold the Lease and no leader shares its address (leader_election.address_env): try again in a "
                    + "few seconds, or on the leader"
            )
        }
        let headers = [
            HTTPHeader("Authorization", request.header("authorization") ?? ""), HTTPHeader(forwardedHeader, "1"),
            HTTPHeader("content-type", "application/json"),
        ]
        let exchange = await forwarding.client.execute(
            HTTPRequest(method: "POST", url: leader + path, headers: headers, body: request.body, timeout: .seconds(60)))
        switch exchange.result {
        case .success(let response):
            let text = JSONValue.parse(response.body)?["message"]?.string ?? response.bodyText
            return message(response.status, (200..<300).contains(response.status), "\(text) (answered by the leader at \(leader))")
        case .failure(let failure):
            return message(
                502, false, "this replica does not hold the Lease, and the leader at \(leader) did not answer: \(failure.message)")
        }
    }

    /// The API's bounds: a POST without the right token is refused 401 before its body is read;
    /// bodies over 64 KiB are refused; idle connections close after 30 s; 256 connections at most.
    public static func limits(token: String) -> ServerLimits {
        ServerLimits { method, _, headers in
            guard method == "POST" else { return nil }
            let header = headers.first { $0.name.lowercased() == "authorization" }?.value
            return authorized(header, token: token) ? nil : message(401, false, "missing or wrong bearer token")
        }
    }

    private static func authorized(_ request: ServerRequest, token: String) -> Bool {
        authorized(request.header("authorization"), token: token)
    }

    private static func authorized(_ header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8)
        let expected = Array(token.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0  // constant time
    }

    private static func answer(_ answer: AgentLoop.Answer) -> ServerReply {
        switch answer {
        case .accepted(let text): message(200, true, text)
        case .refused(let text): message(409, false, text)
        }
    }

    private static func message(_ status: Int, _ ok: Bool, _ text: String) -> ServerReply {
        reply(status, .object(["ok": .bool(ok), "message": .string(text)]))
    }

    private static func reply(_ status: Int, _ json: JSONValue) -> ServerReply {
        .respond(
            status: status, headers: [("content-type", "application/json")],
            body: Array(Secrets.scrub(String(decoding: json.bytes, as: UTF8.self)).utf8) + [0x0A])
    }
}
