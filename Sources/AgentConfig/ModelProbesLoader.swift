import Foundation
import ProbeTemplates
import Probing
import YAMLConfig

/// Reads `model_probes:` (provider → how to reach it for the probes derived from the catalog).
enum ModelProbesLoader {
    static func parse(_ yaml: YAMLFields, path: (String) -> String) throws(ConfigError) -> ModelProbes {
        var providers: [String: ProviderAccess] = [:]
        for provider in yaml.keys {
            guard let fields = try yaml.optionalFields(provider) else { throw yaml.error(provider, "expected a mapping") }
            guard ProbeTemplate.providers.contains(provider) else {
                throw yaml.error(
                    provider,
                    "no probe template for '\(provider)' (there are: \(ProbeTemplate.providers.sorted().joined(separator: ", "))); "
                        + "write a spec in agent.probes for it")
            }
            try fields.rejectUnknownKeys([
                "base_url", "api_key_env", "api_key_file", "project", "location", "google_token", "region", "access_key_id_env",
                "access_key_id_file", "secret_access_key_env", "secret_access_key_file", "session_token_env", "session_token_file",
                "stream", "timeout", "latency_budget", "cost_per_probe",
            ])
            var access = ProviderAccess(provider: provider)
            access.baseURL = try fields.optionalString("base_url").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            if let base = access.baseURL, !(base.hasPrefix("https://") || base.hasPrefix("http://")) {
                throw fields.error("base_url", "'\(base)' must start with https:// or http://")
            }
            access.apiKey = try fields.credential("api_key", required: false, path: path)
            access.project = try fields.optionalString("project")
            access.location = try fields.optionalString("location")
            if let google = try fields.optionalFields("google_token") {
                access.googleToken = try ProbeSpecLoader.googleToken(google, environment: ProcessInfo.processInfo.environment)
            }
            access.region = try fields.optionalString("region")
            access.accessKeyID = try fields.credential("access_key_id", required: false, path: path)
            access.secretAccessKey = try fields.credential("secret_access_key", required: false, path: path)
            access.sessionToken = try fields.credential("session_token", required: false, path: path)
            access.stream = try fields.optionalBool("stream") ?? false
            access.timeout = try fields.duration("timeout", default: .seconds(10), max: .seconds(300))
            access.latencyBudget = try fields.duration("latency_budget", default: min(.seconds(5), access.timeout))
            guard access.latencyBudget <= access.timeout else { throw fields.error("latency_budget", "must not exceed timeout") }
            if fields.has("cost_per_probe") { access.costPerProbe = try ProbeSpecLoader.costPerProbe(fields) }
            switch provider {
            case "vertex":
                if access.project == nil { throw fields.error(nil, "missing required field \(fields.fieldPath("project"))") }
                if access.googleToken == nil { throw fields.error(nil, "missing required field \(fields.fieldPath("google_token"))") }
            case "bedrock":
                if access.accessKeyID == nil || access.secretAccessKey == nil {
                    throw fields.error(nil, "\(fields.path) needs access_key_id_env and secret_access_key_env (or _file)")
                }
            default:
                if access.apiKey == nil { throw fields.error(nil, "\(fields.path) needs exactly one of api_key_env or api_key_file") }
            }
            providers[provider] = access
        }
        return ModelProbes(providers: providers)
    }
}
