import Control
import HTTPServer
import Foundation

extension ServerRequest {
    /// The path without the query, split on `/`.
    var pathParts: [Substring] { uri.split(separator: "?", maxSplits: 1)[0].split(separator: "/") }

    /// Query parameters (values percent-decoded).
    var query: [String: String] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var items: [String: String] = [:]
        for pair in q.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            items[String(parts[0])] = parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
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
    /// Never answer the next `times` requests with this method whose URI contains `fragment`,
    /// after carrying them out or not: the caller cannot tell which.
    var hang: (method: String, fragment: String, carriedOut: Bool, times: Int)?

    /// Whether the hang fault catches `request` (counting it), and if so whether it is carried out.
    mutating func hanging(_ request: ServerRequest) -> Bool? {
        guard let caught = hang, request.method == caught.method, request.uri.contains(caught.fragment) else { return nil }
        hang = caught.times > 1 ? (caught.method, caught.fragment, caught.carriedOut, caught.times - 1) : nil
        return caught.carriedOut
    }

    mutating func next() -> ServerReply? {
        if failures.count > 0 {
            failures.count -= 1
            return .json(failures.status, .object(["errors": .array([.string("injected failure")]), "message": .string("injected failure")]))
        }
        if rateLimits.count > 0 {
            rateLimits.count -= 1
            return .json(429, .object(["message": .string("429 Too Many Requests")]), headers: rateLimits.retryAfter.map { [("Retry-After", String($0))] } ?? [])
        }
        return nil
    }
}

