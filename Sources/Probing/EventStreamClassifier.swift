import AWSEventStream
import Foundation
import HTTP
import ProbeResults

/// Reads a 200 answer in AWS's event-stream framing (Bedrock `ConverseStream`) to its final
/// `messageStop`: an exception message inside the 200 is classed as its status would be, a first
/// `contentBlockDelta` is the first token, and a stream cut short or failing its checksums is
/// `bad_body`.
enum EventStreamClassifier {
    static let contentType = "application/vnd.amazon.eventstream"

    static func classify(_ response: HTTPResponse, budgetMs: Double) -> (ProbeClass, String?) {
        let messages: [EventStreamMessage]
        let leftover: Int
        do { (messages, leftover) = try EventStreamMessage.decode(response.body) } catch {
            return (.badBody, "event stream: \(error)")
        }
        var firstToken: Int?
        for message in messages {
            switch message.messageType {
            case "exception", "error":
                let type = message.type ?? "unknown"
                let text = (try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])?["message"] as? String
                return (exceptionClass(type), type + (text.map { ": \($0)" } ?? ""))
            default:
                if firstToken == nil, message.type == "contentBlockDelta" { firstToken = message.offset }
                if message.type == "messageStop" {
                    guard let offset = firstToken ?? messages.first?.offset, let ms = response.arrival(of: offset) else {
                        return (.ok, nil)
                    }
                    return ms > budgetMs ? (.slow, "first token after \(Int(ms)) ms, budget \(Int(budgetMs)) ms") : (.ok, nil)
                }
            }
        }
        if leftover > 0 { return (.badBody, "the event stream was cut inside a message") }
        return (.badBody, messages.isEmpty ? "2xx event stream carries no message" : "the stream ended before its messageStop")
    }

    /// Bedrock's stream exceptions, classed as their HTTP statuses are: throttling is our quota
    /// (429), a model not ready is the provider's capacity, a bad request is ours.
    static func exceptionClass(_ type: String) -> ProbeClass {
        switch type.lowercased() {
        case "throttlingexception": .rateLimited
        case "modelnotreadyexception": .overloaded
        case "validationexception": .badRequest
        case "accessdeniedexception", "unrecognizedclientexception": .auth
        default: .http5xx  // modelStreamErrorException, serviceUnavailableException, internalServerException, …
        }
    }
}
