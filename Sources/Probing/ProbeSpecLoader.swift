import AWSSigning
import Foundation
import HTTP
import Secrets
import YAMLConfig

/// Reads probe specs (DESIGN.md, "Probe specs"): one per `*.yml`/`*.yaml` file.
public enum ProbeSpecLoader {
    /// Every spec in `directory`, in file-name order. A bad file is reported and skipped: the rest still load.
    public static func loadDirectory(_ directory: String, environment: [String: String]) -> (specs: [ProbeSpec], errors: [ConfigError]) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            return ([], [ConfigError(file: directory, field: "", problem: "cannot list the directory (\(error.localizedDescription))")])
        }
        var specs: [ProbeSpec] = []
        var errors: [ConfigError] = []
        for name in names.sorted() where name.hasSuffix(".yml") || name.hasSuffix(".yaml") {
            do throws(ConfigError) {
                specs.append(try load(file: (directory as NSString).appendingPathComponent(name), environment: environment))
            } catch { errors.append(error) }
        }
        if specs.isEmpty && errors.isEmpty {
            errors.append(ConfigError(file: directory, field: "", problem: "no probe specs (*.yml) in the directory"))
        }
        var seen: [String: String] = [:]
        for spec in specs {
            if let other = seen[spec.name] {
                errors.append(ConfigError(file: spec.file, field: "name", problem: "probe name '\(spec.name)' is also used by \(other)"))
            }
            seen[spec.name] = spec.file
        }
        return (specs, errors)
    }

    public static func load(file: String, environment: [String: String]) throws(ConfigError) -> ProbeSpec {
        try parse(YAMLFields.load(file: file), environment: environment)
    }

    public static func parse(_ yaml: YAMLFields, environment: [String: String]) throws(ConfigError) -> ProbeSpec {
        try yaml.rejectUnknownKeys([
            "provider", "name", "url", "method", "headers", "body", "timeout", "latency_budget", "auth", "expect_body", "fresh_connection",
            "stream", "model", "cost_per_probe",
        ])
        func expand(_ text: String, _ field: String, in fields: YAMLFields = yaml) throws(ConfigError) -> String {
            do { return try Interpolation.expand(text, environment: environment) } catch {
                throw fields.error(field, error.description)
            }
        }
        let provider = try yaml.string("provider")
        guard isIdentifier(provider) else { throw yaml.error("provider", "'\(provider)' must be lower-case letters, digits, '_' or '-'") }
        let url = try expand(try yaml.string("url"), "url")
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw yaml.error("url", "'\(url)' must start with https:// or http://")
        }
        let method = (try yaml.optionalString("method") ?? "GET").uppercased()
        guard ["GET", "POST", "HEAD", "PUT"].contains(method) else {
            throw yaml.error("method", "'\(method)' is not one of GET, POST, HEAD, PUT")
        }
        var headers: [HTTPHeader] = []
        if let fields = try yaml.optionalFields("headers") {
            for name in fields.keys { headers.append(HTTPHeader(name, try expand(try fields.string(name), name, in: fields))) }
        }
        let body = try yaml.optionalString("body").map { text throws(ConfigError) in try expand(text, "body") }
        if let body, body.utf8.count > ProbeSpec.maxBodyBytes {
            throw yaml.error("body", "is \(body.utf8.count) bytes; a probe sends at most \(ProbeSpec.maxBodyBytes)")
        }
        if let body, let payload = body.data(using: .utf8), (try? JSONSerialization.jsonObject(with: payload)) == nil,
            headers.contains(where: { $0.name.lowercased() == "content-type" && $0.value.contains("json") })
        {
            throw yaml.error("body", "is not valid JSON, yet content-type says JSON")
        }
        let timeout = try yaml.duration("timeout", default: .seconds(10), max: .seconds(300))
        let budget = try yaml.duration("latency_budget", default: min(.seconds(5), timeout))
        guard timeout > .zero else { throw yaml.error("timeout", "must be more than 0") }
        guard budget <= timeout else { throw yaml.error("latency_budget", "must not exceed timeout (\(DurationText.format(timeout)))") }
        let expectText = try yaml.optionalString("expect_body") ?? "json"
        guard let expect = ProbeSpec.BodyExpectation(rawValue: expectText) else {
            throw yaml.error("expect_body", "'\(expectText)' is not json or any")
        }
        let stem = ((yaml.file as NSString).lastPathComponent as NSString).deletingPathExtension
        let spec = ProbeSpec(
            provider: provider, name: try yaml.optionalString("name") ?? stem, model: try yaml.optionalString("model"),
            costPerProbe: try costPerProbe(yaml), file: yaml.file, method: method, url: url,
            headers: headers, body: body, timeout: timeout, latencyBudget: budget,
            auth: try parseAuth(yaml, environment: environment), expectBody: expect,
            freshConnection: try yaml.optionalBool("fresh_connection") ?? true, stream: try yaml.optionalBool("stream") ?? false)
        Secrets.register(spec.secrets)
        return spec
    }

    private static func parseAuth(_ yaml: YAMLFields, environment: [String: String]) throws(ConfigError) -> ProbeAuth? {
        guard let auth = try yaml.optionalFields("auth") else { return nil }
        try auth.rejectUnknownKeys(["aws_sigv4", "google_token"])
        func value(_ fields: YAMLFields, _ key: String) throws(ConfigError) -> String? {
            guard let text = try fields.optionalString(key) else { return nil }
            do { return try Interpolation.expand(text, environment: environment) } catch { throw fields.error(key, error.description) }
        }
        if let aws = try auth.optionalFields("aws_sigv4") {
            try aws.rejectUnknownKeys(["region", "service", "access_key_id", "secret_access_key", "session_token"])
            guard let region = try value(aws, "region"), !region.isEmpty else {
                throw aws.error(nil, "missing required field \(aws.fieldPath("region"))")
            }
            guard let key = try value(aws, "access_key_id"), !key.isEmpty else {
                throw aws.error(nil, "missing required field \(aws.fieldPath("access_key_id"))")
            }
            guard let secret = try value(aws, "secret_access_key"), !secret.isEmpty else {
                throw aws.error(nil, "missing required field \(aws.fieldPath("secret_access_key"))")
            }
            let token = try value(aws, "session_token")
            let credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token?.isEmpty == true ? nil : token)
            return .awsSigV4(SigV4Signer(region: region, service: try value(aws, "service") ?? "bedrock", credentials: credentials))
        }
        if let google = try auth.optionalFields("google_token") { return .googleToken(try googleToken(google, environment: environment)) }
        throw auth.error(nil, "needs aws_sigv4 or google_token")
    }

    /// A `google_token: {file | command, lifetime}` mapping, `${VAR}`s filled in.
    public static func googleToken(_ google: YAMLFields, environment: [String: String]) throws(ConfigError) -> GoogleTokenSource {
        try google.rejectUnknownKeys(["file", "command", "lifetime"])
        func value(_ key: String) throws(ConfigError) -> String? {
            guard let text = try google.optionalString(key) else { return nil }
            do { return try Interpolation.expand(text, environment: environment) } catch { throw google.error(key, error.description) }
        }
        let lifetime = try google.duration("lifetime", default: .seconds(300), max: .seconds(3600))
        switch (try value("file"), try value("command")) {
        case (let file?, nil): return GoogleTokenSource(origin: .file(file), lifetime: lifetime)
        case (nil, let command?): return GoogleTokenSource(origin: .command(command), lifetime: lifetime)
        default: throw google.error(nil, "needs exactly one of file or command")
        }
    }

    /// `cost_per_probe`: US dollars, at least 0 and below 1.
    public static func costPerProbe(_ yaml: YAMLFields) throws(ConfigError) -> Double {
        let cost = try yaml.optionalDouble("cost_per_probe") ?? 0
        guard cost >= 0, cost < 1 else { throw yaml.error("cost_per_probe", "must be between 0 and 1 (US dollars per probe)") }
        return cost
    }

    private static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
