import HTTPServer
import ProbeResults

/// The answer shapes of one provider's API.
public enum ProviderFlavor: String, Sendable, CaseIterable {
    case anthropic, vertex, bedrock, openai, azure, fireworks

    /// The reply this provider gives for an outcome of class `resultClass`.
    ///
    /// `timeout` hangs and `connect` resets the connection. A plain-HTTP server cannot fail a TLS
    /// handshake, so `tls` also resets: to see class `tls`, point an `https://` probe at the sandbox.
    public func reply(for resultClass: ProbeClass, latency: Duration = .zero) -> ServerReply {
        let (status, body, headers) = answer(for: resultClass)
        switch resultClass {
        case .timeout: return .hang
        case .connect, .tls: return .reset
        case .badBody:
            return .respond(
                status: 200, headers: [("content-type", "text/html")], body: Array("<html>upstream hiccup</html>".utf8), delay: latency)
        default: return .json(status, body, headers: headers, delay: latency)
        }
    }

    private func answer(for resultClass: ProbeClass) -> (Int, String, [(String, String)]) {
        switch self {
        case .anthropic: anthropic(resultClass)
        case .vertex: vertex(resultClass)
        case .bedrock: bedrock(resultClass)
        case .openai, .azure, .fireworks: openAI(resultClass)
        }
    }

    private func anthropic(_ resultClass: ProbeClass) -> (Int, String, [(String, String)]) {
        func error(_ status: Int, _ type: String, _ message: String) -> (Int, String, [(String, String)]) {
            (status, #"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"}}"#, [("request-id", "req_sandbox")])
        }
        switch resultClass {
        case .http5xx: return error(500, "api_error", "Internal server error")
        case .overloaded: return error(529, "overloaded_error", "Overloaded")
        case .rateLimited: return error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
        case .auth: return error(401, "authentication_error", "invalid x-api-key")
        case .badRequest: return error(400, "invalid_request_error", "max_tokens: field required")
        default:
            return (
                200,
                #"{"id":"msg_sandbox","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","#
                    + #""text":"p"}],"stop_reason":"max_tokens","usage":{"input_tokens":8,"output_tokens":1}}"#,
                []
            )
        }
    }

    private func vertex(_ resultClass: ProbeClass) -> (Int, String, [(String, String)]) {
        func error(_ status: Int, _ code: String, _ message: String) -> (Int, String, [(String, String)]) {
            (status, #"{"error":{"code":\#(status),"message":"\#(message)","status":"\#(code)"}}"#, [])
        }
        switch resultClass {
        case .http5xx: return error(503, "UNAVAILABLE", "The service is currently unavailable.")
        case .overloaded: return anthropic(.overloaded)  // Vertex passes Anthropic's 529 through
        case .rateLimited:
            return error(
                429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model")
        case .auth: return error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        case .badRequest: return error(404, "NOT_FOUND", "Publisher model was not found.")
        default: return anthropic(.ok)
        }
    }

    private func bedrock(_ resultClass: ProbeClass) -> (Int, String, [(String, String)]) {
        func error(_ status: Int, _ type: String, _ message: String) -> (Int, String, [(String, String)]) {
            (status, #"{"message":"\#(message)"}"#, [("x-amzn-ErrorType", "\(type):http://internal.amazon.com/coral/com.amazon.bedrock/")])
        }
        switch resultClass {
        case .http5xx: return error(503, "ServiceUnavailableException", "Bedrock is unable to process your request.")
        case .overloaded: return error(429, "ModelNotReadyException", "The model is not ready to serve inference requests.")
        case .rateLimited: return error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
        case .auth: return error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        case .badRequest: return error(400, "ValidationException", "The provided model identifier is invalid.")
        default:
            return (
                200,
                #"{"output":{"message":{"role":"assistant","content":[{"text":"p"}]}},"stopReason":"max_tokens","#
                    + #""usage":{"inputTokens":8,"outputTokens":1,"totalTokens":9}}"#,
                []
            )
        }
    }

    private func openAI(_ resultClass: ProbeClass) -> (Int, String, [(String, String)]) {
        func error(_ status: Int, _ type: String, _ message: String) -> (Int, String, [(String, String)]) {
            (status, #"{"error":{"message":"\#(message)","type":"\#(type)","param":null,"code":null}}"#, [])
        }
        switch resultClass {
        case .http5xx: return error(500, "server_error", "The server had an error while processing your request.")
        case .overloaded: return error(503, "server_error", "The engine is currently overloaded, please try again later.")
        case .rateLimited: return error(429, "insufficient_quota", "You exceeded your current quota.")
        case .auth: return error(401, "invalid_request_error", "Incorrect API key provided.")
        case .badRequest: return error(400, "invalid_request_error", "max_tokens is too large.")
        default:
            return (
                200,
                #"{"id":"chatcmpl-sandbox","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","#
                    + #""content":"p"},"finish_reason":"length"}],"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}}"#,
                []
            )
        }
    }
}
