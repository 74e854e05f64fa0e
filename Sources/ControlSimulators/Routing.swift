import ControlAPI
import Foundation
import HTTPServer
import Timekeeping

extension ServerRequest {
    /// The path without the query, split on `/`.
    var pathParts: [Substring] { uri.split(separator: "?", maxSplits: 1)[0].split(separator: "/") }

    /// Query parameters (values percent-decoded).
    var query: [String: String] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var items: [String: String] = [:]
        for pair in q.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            items[String(parts[0]).removingPercentEncoding ?? String(parts[0])] =
                parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
        }
        return items
    }

    public var json: JSONValue? { JSONValue.parse(body) }
}

extension ServerReply {
    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> ServerReply {
        .respond(status: status, headers: [("content-type", "application/json")] + headers, body: value.bytes)
    }
}

/// Faults to inject into the next requests of a simulator.
struct Faults {
    /// Answer this many requests with this status.
    var failures: (count: Int, status: Int) = (0, 503)
    /// Answer this many requests with 429, with this `Retry-After` (or none).
    var rateLimits: (count: Int, retryAfter: Int?) = (0, nil)
    /// Answer this many requests this late on a virtual clock (moved on by the delay first).
    var slow: (count: Int, delay: Duration, clock: VirtualClock?) = (0, .zero, nil)
    /// What happens to the next `times` requests with this method whose URI contains `fragment`;
    /// the first rule that matches a request catches it.
    var matching: [(method: String, fragment: String, effect: Effect, times: Int)] = []

    enum Effect {
        /// Never answered, after being carried out or not: the caller cannot tell which.
        case hang(carriedOut: Bool)
        /// Answered with this status, not carried out.
        case status(Int)
        /// Carried out, and answered with this status (a proxy lost the real answer).
        case lost(Int)
    }

    /// Adds a rule; a nil `fragment` removes every rule of `method` with this kind of effect.
    mutating func add(_ method: String, _ fragment: String?, _ effect: Effect, times: Int) {
        guard let fragment else {
            matching.removeAll { $0.method == method && Self.sameKind($0.effect, effect) }
            return
        }
        matching.append((method, fragment, effect, times))
    }

    private static func sameKind(_ a: Effect, _ b: Effect) -> Bool {
        switch (a, b) {
        case (.hang, .hang), (.status, .status), (.lost, .lost): true
        default: false
        }
    }

    /// The effect that catches `request`, if any (counting it).
    mutating func catching(_ request: ServerRequest) -> Effect? {
        guard let index = matching.firstIndex(where: { request.method == $0.method && request.uri.contains($0.fragment) }) else {
            return nil
        }
        let caught = matching[index]
        if caught.times > 1 { matching[index].times -= 1 } else { matching.remove(at: index) }
        return caught.effect
    }

    mutating func next() -> ServerReply? {
        if slow.count > 0 {
            slow.count -= 1
            slow.clock?.advance(by: slow.delay)
        }
        if failures.count > 0 {
            failures.count -= 1
            return Self.injected(failures.status)
        }
        if rateLimits.count > 0 {
            rateLimits.count -= 1
            return .json(
                429, .object(["message": .string("429 Too Many Requests")]),
                headers: rateLimits.retryAfter.map { [("Retry-After", String($0))] } ?? [])
        }
        return nil
    }

    static func injected(_ status: Int) -> ServerReply {
        .json(status, .object(["errors": .array([.string("injected failure")]), "message": .string("injected failure")]))
    }
}

/// A simulator's state, with its faults and the requests it saw.
protocol FaultyState {
    var faults: Faults { get set }
    var requests: [ServerRequest] { get set }
}

extension FaultyState {
    /// Answers `request` through `route` unless a matching fault catches it first.
    mutating func answer(_ request: ServerRequest, route: (inout Self) -> ServerReply) -> ServerReply {
        switch faults.catching(request) {
        case nil: return route(&self)
        case .hang(carriedOut: true)?: _ = route(&self)
        case .hang(carriedOut: false)?: requests.append(request)
        case .status(let status)?:
            requests.append(request)
            return Faults.injected(status)
        case .lost(let status)?:
            _ = route(&self)
            return Faults.injected(status)
        }
        return .hang
    }
}
