import AWSSigning
import ControlAPI
import Foundation
import HTTP
import Probing
import Secrets
import Selection

/// The smallest billable request of each provider's API for one catalog model (`max_tokens: 1`):
/// Anthropic Messages, Vertex AI `rawPredict` for Claude and `generateContent` for Gemini, Bedrock
/// Converse (`ConverseStream` when streaming), OpenAI Chat Completions (Responses for Codex models), Fireworks and Mistral.
public enum ProbeTemplate {
    /// Providers with a template.
    public static let providers: Set<String> = ["anthropic", "vertex", "bedrock", "openai", "fireworks", "mistral"]

    /// What one probe costs by default, in US dollars: about 10 input and 1 output tokens at the
    /// provider's dearer small-model prices (the Responses API bills 16 output tokens at least).
    /// Set `cost_per_probe` for the models you really probe.
    public static let estimatedCost: [String: Double] = [
        "anthropic": 0.000_02, "vertex": 0.000_02, "bedrock": 0.000_02, "openai": 0.000_03, "fireworks": 0.000_002,
        "mistral": 0.000_01,
    ]

    /// Why no template fits `model`, or nil when one does.
    public static func unsupported(_ model: ModelInfo, stream: Bool) -> String? {
        guard let provider = model.provider, providers.contains(provider) else {
            return "no template for provider \(model.provider ?? "unmanaged")"
        }
        guard let name = model.serving.model, !name.isEmpty else { return "models.yml gives no params.model" }
        if model.serving.modelClass == "litellm_embedding" { return "an embedding model" }
        if provider == "vertex", vertexShape(name) == nil { return "no Vertex AI template for \(name) (Claude and Gemini only)" }
        return nil
    }

    /// The probe of `model` through `access`, credentials read now. `name` is the spec's name.
    public static func spec(
        for model: ModelInfo, access: ProviderAccess, environment: [String: String], costPerProbe: Double
    ) throws(ControlError) -> ProbeSpec {
        if let why = unsupported(model, stream: access.stream) { throw .refused("\(model.id): \(why)") }
        let name = model.serving.model!
        let ping = #"[{"role":"user","content":"ping"}]"#
        let streamField = access.stream ? #","stream":true"# : ""
        var url: String
        var headers = [HTTPHeader("content-type", "application/json")]
        var body: String
        var auth: ProbeAuth?
        var fileHeaders: [ProbeSpec.FileHeader] = []
        /// The API key as header `name`; a key file is read again at each probe when it changed.
        func key(_ name: String, prefix: String = "") throws(ControlError) {
            guard let credential = access.apiKey else {
                throw .credential("model_probes.\(access.provider) needs api_key_env or api_key_file")
            }
            let source = try CredentialSource(credential, environment: environment)
            if credential.path != nil {
                fileHeaders.append(ProbeSpec.FileHeader(name: name, prefix: prefix, source: source))
            } else {
                headers.append(HTTPHeader(name, prefix + (try source.current())))
            }
        }
        switch model.provider! {
        case "anthropic":
            url = (access.baseURL ?? "https://api.anthropic.com") + "/v1/messages"
            try key("x-api-key")
            headers.append(HTTPHeader("anthropic-version", "2023-06-01"))
            body = #"{"model":\#(quote(name)),"max_tokens":1,"messages":\#(ping)\#(streamField)}"#
        case "vertex":
            guard let project = access.project else { throw .credential("model_probes.vertex needs project") }
            guard let source = access.googleToken else { throw .credential("model_probes.vertex needs google_token") }
            // The gateway's own default location is `global` (no region prefix, its own quota bucket).
            let location = model.serving.location ?? access.location ?? "global"
            let host = location == "global" ? "https://aiplatform.googleapis.com" : "https://\(location)-aiplatform.googleapis.com"
            let bare = name.hasPrefix("vertex_ai/") ? String(name.dropFirst("vertex_ai/".count)) : name
            let (publisher, method, shape) = vertexShape(bare)!
            url = (access.baseURL ?? host) + "/v1/projects/\(project)/locations/\(location)/publishers/\(publisher)/models/\(bare):"
            switch shape {
            case .claude:
                url += access.stream ? "streamRawPredict" : method
                body = #"{"anthropic_version":"vertex-2023-10-16","max_tokens":1,"messages":\#(ping)\#(streamField)}"#
            case .gemini:
                url += access.stream ? "streamGenerateContent?alt=sse" : method
                body = #"{"contents":[{"role":"user","parts":[{"text":"ping"}]}],"generationConfig":{"maxOutputTokens":1}}"#
            }
            auth = .googleToken(source)
        case "bedrock":
            let region = access.region ?? "us-east-1"
            var id = name.hasPrefix("bedrock/") ? String(name.dropFirst("bedrock/".count)) : name
            if id.hasPrefix("converse/") { id = String(id.dropFirst("converse/".count)) }
            url =
                (access.baseURL ?? "https://bedrock-runtime.\(region).amazonaws.com") + "/model/\(id)/"
                + (access.stream ? "converse-stream" : "converse")
            body = #"{"messages":[{"role":"user","content":[{"text":"ping"}]}],"inferenceConfig":{"maxTokens":1}}"#
            if let origin = access.awsOrigin {
                auth = .awsTemporary(region: region, service: "bedrock", origin)
                break
            }
            guard let keyID = access.accessKeyID, let secret = access.secretAccessKey else {
                throw .credential("model_probes.bedrock needs access_key_id_env and secret_access_key_env (or _file)")
            }
            let token = try access.sessionToken.map { credential throws(ControlError) in try credential.resolve(environment) }
            auth = .awsSigV4(
                SigV4Signer(
                    region: region, service: "bedrock",
                    credentials: AWSCredentials(
                        accessKeyID: try keyID.resolve(environment), secretAccessKey: try secret.resolve(environment), sessionToken: token))
            )
        case "openai":
            let base = access.baseURL ?? "https://api.openai.com"
            try key("authorization", prefix: "Bearer ")
            if name.contains("codex") {
                url = base + "/v1/responses"
                body = #"{"model":\#(quote(name)),"input":"ping","max_output_tokens":16\#(streamField)}"#
            } else {
                url = base + "/v1/chat/completions"
                body = #"{"model":\#(quote(name)),"max_completion_tokens":1,"messages":\#(ping)\#(streamField)}"#
            }
        case "fireworks":
            let id = model.serving.identifier ?? (name.contains("/") ? name : "accounts/fireworks/models/\(name)")
            let base = access.baseURL ?? "https://api.fireworks.ai/inference"
            try key("authorization", prefix: "Bearer ")
            // As the gateway calls it: completions only for `litellm_completion` models (Codestral), chat otherwise.
            if model.serving.modelClass == "litellm_completion" {
                url = base + "/v1/completions"
                body = #"{"model":\#(quote(id)),"prompt":"ping","max_tokens":1\#(streamField)}"#
            } else {
                url = base + "/v1/chat/completions"
                body = #"{"model":\#(quote(id)),"max_tokens":1,"messages":\#(ping)\#(streamField)}"#
            }
        default:  // mistral
            let id = name.hasPrefix("mistral/") ? String(name.dropFirst("mistral/".count)) : name
            url = (access.baseURL ?? "https://api.mistral.ai") + "/v1/chat/completions"
            try key("authorization", prefix: "Bearer ")
            body = #"{"model":\#(quote(id)),"max_tokens":1,"messages":\#(ping)\#(streamField)}"#
        }
        var spec = ProbeSpec(
            provider: model.provider!, name: model.id, model: model.id, costPerProbe: costPerProbe, file: "model_probes", method: "POST",
            url: url, headers: headers, body: body, timeout: access.timeout, latencyBudget: access.latencyBudget, auth: auth,
            stream: access.stream)
        spec.fileHeaders = fileHeaders
        Secrets.register(spec.secrets)
        return spec
    }

    enum VertexShape { case claude, gemini }

    /// The publisher, method and body shape of a model on Vertex AI; nil when no template fits.
    static func vertexShape(_ name: String) -> (publisher: String, method: String, shape: VertexShape)? {
        let bare = name.hasPrefix("vertex_ai/") ? String(name.dropFirst("vertex_ai/".count)) : name
        if bare.hasPrefix("claude") { return ("anthropic", "rawPredict", .claude) }
        if bare.hasPrefix("gemini") { return ("google", "generateContent", .gemini) }
        return nil
    }

    private static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
