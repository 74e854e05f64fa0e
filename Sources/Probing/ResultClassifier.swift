import Foundation
import HTTP
import ProbeResults

/// Turns one HTTP exchange into a probe result class, reading provider error bodies and headers.
public enum ResultClassifier {
    public static func classify(_ exchange: HTTPExchange, spec: ProbeSpec) -> (ProbeClass, detail: String?) {
        switch exchange.result {
        case .failure(let failure):
            let detail = Redaction.scrub(failure.message, secrets: spec.secrets)
            // A stream the provider started and cut off mid-way: its answer is broken, not its network.
            if spec.stream, failure.curlError == "CURLE_PARTIAL_FILE" { return (.badBody, "the stream was cut before its end: \(detail)") }
            switch failure.kind {
            case .timeout, .cancelled: return (.timeout, detail)
            case .dns, .connect: return (.connect, detail)
            case .tls: return (.tls, detail)
            case .other:
                // A malformed URL or unsupported scheme is our probe's fault.
                return (
                    failure.curlError == "CURLE_URL_MALFORMAT" || failure.curlError == "CURLE_UNSUPPORTED_PROTOCOL"
                        ? .badRequest : .connect, detail
                )
            }
        case .success(let response):
            let (resultClass, detail) = classify(response, firstByteMs: exchange.timings.firstByte, spec: spec)
            return (resultClass, detail.map { Redaction.scrub($0, secrets: spec.secrets) })
        }
    }

    static func classify(_ response: HTTPResponse, firstByteMs: Double, spec: ProbeSpec) -> (ProbeClass, String?) {
        let error = ProviderError(response)
        switch response.status {
        case 200..<300:
            if response.truncated { return (.badBody, "body larger than the response size cap") }
            if spec.stream {
                let eventStream = response.header("content-type")?.lowercased().hasPrefix(EventStreamClassifier.contentType) == true
                return eventStream
                    ? EventStreamClassifier.classify(response, budgetMs: spec.latencyBudget.milliseconds)
                    : StreamClassifier.classify(response, budgetMs: spec.latencyBudget.milliseconds)
            }
            if spec.expectBody == .json, !response.body.isEmpty || spec.method != "HEAD",
                (try? JSONSerialization.jsonObject(with: Data(response.body))) == nil
            {
                return (.badBody, "2xx body is not JSON")
            }
            if error.isOverloaded { return (.overloaded, error.type) }
            return firstByteMs > spec.latencyBudget.milliseconds
                ? (.slow, "first byte after \(Int(firstByteMs)) ms, budget \(Int(spec.latencyBudget.milliseconds)) ms") : (.ok, nil)
        case 529: return (.overloaded, error.type ?? "HTTP 529")
        case 429: return (error.isOverloaded ? .overloaded : .rateLimited, error.type ?? "HTTP 429")
        case 401, 403: return (.auth, error.type ?? "HTTP \(response.status)")
        case 408: return (.timeout, error.type ?? "HTTP 408")
        case 500..<600: return (error.isOverloaded ? .overloaded : .http5xx, error.type ?? "HTTP \(response.status)")
        default: return (.badRequest, error.type ?? "HTTP \(response.status)")
        }
    }
}

/// The error a provider names in its answer, in the shapes Anthropic, Vertex AI, Bedrock and OpenAI use.
struct ProviderError {
    /// `overloaded_error`, `ThrottlingException`, `RESOURCE_EXHAUSTED`, `insufficient_quota`, …
    var type: String?
    var message: String?

    init(_ response: HTTPResponse) {
        if let amazon = response.header("x-amzn-ErrorType") {
            type = String(amazon.prefix { $0 != ":" })
        }
        guard !response.body.isEmpty, var json = try? JSONSerialization.jsonObject(with: Data(response.body)) else { return }
        if let list = json as? [Any], let first = list.first { json = first }  // Vertex sometimes wraps errors in a list
        guard let object = json as? [String: Any] else { return }
        if let error = object["error"] as? [String: Any] {
            // Anthropic: error.type; Vertex: error.status; OpenAI: error.type / error.code.
            type = type ?? (error["type"] as? String) ?? (error["status"] as? String) ?? (error["code"] as? String)
            message = error["message"] as? String
        } else if let error = object["error"] as? String {
            type = type ?? error
        }
        message = message ?? (object["message"] as? String) ?? (object["Message"] as? String)
        if type == nil, let kind = object["__type"] as? String { type = String(kind.split(separator: "#").last ?? "") }
    }

    /// The provider says it is out of capacity (not that our quota is spent).
    var isOverloaded: Bool {
        if let type, type == "overloaded_error" || type == "ModelNotReadyException" || type.lowercased().contains("overloaded") {
            return true
        }
        return message?.lowercased().contains("overloaded") ?? false
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
