import AWSEventStream
import HTTPServer
import ProbeResults

/// Streamed answers (server-sent events) in each provider's shape, for `stream: true` probes:
/// a complete stream, one that fails mid-way with an error event after its 200, one cut before
/// its end, and one whose first token comes late.
extension ProviderFlavor {
    /// `resultClass` as a stream: `.ok` complete; `.slow` complete with its first token after
    /// `latency`; `.overloaded`, `.http5xx`, `.rateLimited` as an error event inside the 200;
    /// `.badBody` cut off mid-stream. Other classes answer as without streaming.
    public func streamReply(for resultClass: ProbeClass, latency: Duration = .zero) -> ServerReply {
        if self == .bedrock { return converseStream(resultClass, latency: latency) }
        let headers = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
        let (start, token, end) = pieces
        switch resultClass {
        case .ok: return .stream(status: 200, headers: headers, chunks: [StreamChunk(start), StreamChunk(token), StreamChunk(end)])
        case .slow:
            return .stream(
                status: 200, headers: headers, chunks: [StreamChunk(start), StreamChunk(after: latency, token), StreamChunk(end)])
        case .overloaded, .http5xx, .rateLimited:
            return .stream(status: 200, headers: headers, chunks: [StreamChunk(start), StreamChunk(errorEvent(resultClass))])
        case .badBody: return .stream(status: 200, headers: headers, chunks: [StreamChunk(start), StreamChunk(token)], end: false)
        default: return reply(for: resultClass, latency: latency)
        }
    }

    /// The first event, a token, and the final event.
    private var pieces: (String, String, String) {
        switch self {
        case .anthropic, .vertex, .bedrock:  // Bedrock streams in its own framing: converseStream
            (
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_sandbox\",\"role\":\"assistant\"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"p\"}}\n\n",
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
            )
        case .openai, .azure, .fireworks:
            (
                "data: {\"id\":\"chatcmpl-sandbox\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
                "data: {\"id\":\"chatcmpl-sandbox\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"p\"}}]}\n\n",
                "data: {\"id\":\"chatcmpl-sandbox\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n"
            )
        }
    }

    private func errorEvent(_ resultClass: ProbeClass) -> String {
        let (type, message) =
            switch resultClass {
            case .overloaded: ("overloaded_error", "Overloaded")
            case .rateLimited: ("rate_limit_error", "Rate limited")
            default: ("api_error", "Internal server error")
            }
        switch self {
        case .anthropic, .vertex, .bedrock:
            return "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"\(type)\",\"message\":\"\(message)\"}}\n\n"
        case .openai, .azure, .fireworks:
            let openAIType = resultClass == .rateLimited ? "rate_limit_exceeded" : "server_error"
            return "data: {\"error\":{\"type\":\"\(openAIType)\",\"message\":\"\(message)\"}}\n\n"
        }
    }

    /// Bedrock's `ConverseStream` in AWS's event-stream framing: `messageStart`,
    /// `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata`; a failure is an
    /// exception message after the 200 (`modelNotReadyException`, `serviceUnavailableException`,
    /// `throttlingException`); a cut stream stops inside a message.
    private func converseStream(_ resultClass: ProbeClass, latency: Duration) -> ServerReply {
        func event(_ type: String, _ json: String) -> [UInt8] {
            EventStreamMessage(
                headers: [":message-type": "event", ":event-type": type, ":content-type": "application/json"], payload: Array(json.utf8)
            ).encoded()
        }
        let headers = [("content-type", "application/vnd.amazon.eventstream"), ("x-amzn-requestid", "sandbox")]
        let start = event("messageStart", #"{"role":"assistant"}"#)
        let token = event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"p"}}"#)
        let end =
            event("contentBlockStop", #"{"contentBlockIndex":0}"#) + event("messageStop", #"{"stopReason":"max_tokens"}"#)
            + event("metadata", #"{"usage":{"inputTokens":8,"outputTokens":1,"totalTokens":9},"metrics":{"latencyMs":100}}"#)
        switch resultClass {
        case .ok:
            return .stream(
                status: 200, headers: headers, chunks: [StreamChunk(bytes: start), StreamChunk(bytes: token), StreamChunk(bytes: end)])
        case .slow:
            return .stream(
                status: 200, headers: headers,
                chunks: [StreamChunk(bytes: start), StreamChunk(after: latency, bytes: token), StreamChunk(bytes: end)])
        case .overloaded, .http5xx, .rateLimited:
            let type =
                resultClass == .overloaded
                ? "modelNotReadyException" : resultClass == .rateLimited ? "throttlingException" : "serviceUnavailableException"
            let exception = EventStreamMessage(
                headers: [":message-type": "exception", ":exception-type": type, ":content-type": "application/json"],
                payload: Array(#"{"message":"sandbox \#(type)"}"#.utf8)
            ).encoded()
            return .stream(status: 200, headers: headers, chunks: [StreamChunk(bytes: start), StreamChunk(bytes: exception)])
        case .badBody:
            return .stream(
                status: 200, headers: headers, chunks: [StreamChunk(bytes: start), StreamChunk(bytes: Array(token.prefix(20)))], end: false)
        default: return reply(for: resultClass, latency: latency)
        }
    }
}
