import Foundation
import HTTP
import ProbeResults

/// Reads a 200 answer that is a server-sent event stream to its final event, in the shapes the
/// providers use: Anthropic messages (`event: error` inside the 200, final `message_stop`),
/// OpenAI chat completions (a `data:` chunk with an `error` object, final `data: [DONE]`), OpenAI
/// Responses (`event: error` or `response.failed`, final `response.completed`) and Gemini / Vertex
/// AI `alt=sse` (a chunk with `error`, final chunk with a `finishReason`).
package enum StreamClassifier {
    package struct Event {
        package var name: String?
        package var data: String
        /// Byte offset of the event in the body.
        package var offset: Int
    }

    static func classify(_ response: HTTPResponse, budgetMs: Double) -> (ProbeClass, String?) {
        let events = parse(response.body)
        var firstToken: Int?
        var finished = false
        for event in events {
            let json = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any]
            if let failure = error(event, json) { return failure }
            if firstToken == nil, isToken(event, json) { firstToken = event.offset }
            if isFinal(event, json) { finished = true }
        }
        guard finished else {
            return (.badBody, events.isEmpty ? "2xx stream carries no event" : "the stream ended before its final event")
        }
        guard let offset = firstToken ?? events.first?.offset, let ms = response.arrival(of: offset) else { return (.ok, nil) }
        return ms > budgetMs ? (.slow, "first token after \(Int(ms)) ms, budget \(Int(budgetMs)) ms") : (.ok, nil)
    }

    /// Events split on blank lines; `event:` names one, `data:` lines make its data.
    package static func parse(_ body: [UInt8]) -> [Event] {
        var events: [Event] = []
        var name: String?
        var data: [String] = []
        var start = 0
        var offset = 0
        for line in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            defer { offset += line.count + 1 }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            if text.isEmpty {
                if name != nil || !data.isEmpty { events.append(Event(name: name, data: data.joined(separator: "\n"), offset: start)) }
                (name, data) = (nil, [])
                start = offset + line.count + 1
            } else if text.hasPrefix("event:") {
                name = text.dropFirst(6).trimmingCharacters(in: .whitespaces)
            } else if text.hasPrefix("data:") {
                data.append(text.dropFirst(5).trimmingCharacters(in: .whitespaces))
            }
        }
        if name != nil || !data.isEmpty { events.append(Event(name: name, data: data.joined(separator: "\n"), offset: start)) }
        return events
    }

    /// An error the provider put inside the stream, classed as if it had been the status.
    static func error(_ event: Event, _ json: [String: Any]?) -> (ProbeClass, String?)? {
        let named = event.name == "error" || event.name == "response.failed" || json?["type"] as? String == "error"
        let object = (json?["error"] as? [String: Any]) ?? ((json?["response"] as? [String: Any])?["error"] as? [String: Any])
        guard named || object != nil else { return nil }
        let type = (object?["type"] as? String) ?? (object?["code"] as? String) ?? (object?["status"] as? String) ?? event.name ?? "error"
        let message = (object?["message"] as? String) ?? ""
        let detail = "stream error event: \(type)"
        switch type.lowercased() {
        case let kind where kind.contains("overloaded") || message.lowercased().contains("overloaded"): return (.overloaded, detail)
        case "rate_limit_error", "rate_limit_exceeded", "resource_exhausted", "throttlingexception": return (.rateLimited, detail)
        case "authentication_error", "permission_error", "invalid_api_key", "unauthenticated": return (.auth, detail)
        case "invalid_request_error", "invalid_argument": return (.badRequest, detail)
        default: return (.http5xx, detail)
        }
    }

    /// The event carries the first generated text.
    static func isToken(_ event: Event, _ json: [String: Any]?) -> Bool {
        if event.name == "content_block_delta" || event.name == "response.output_text.delta" { return true }
        if let choices = json?["choices"] as? [[String: Any]], let delta = choices.first?["delta"] as? [String: Any],
            delta["content"] != nil
        {
            return true
        }
        return json?["candidates"] != nil
    }

    /// The event that ends a complete answer.
    static func isFinal(_ event: Event, _ json: [String: Any]?) -> Bool {
        if event.data == "[DONE]" || event.name == "message_stop" || event.name == "response.completed" { return true }
        if json?["type"] as? String == "message_stop" { return true }
        if let candidates = json?["candidates"] as? [[String: Any]], candidates.contains(where: { $0["finishReason"] != nil }) {
            return true
        }
        return false
    }
}
