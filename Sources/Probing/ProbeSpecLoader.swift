import AWSSigning
import Foundation
import HTTP
import Secrets
import YAMLConfig

/// Reads probe specs (docs/probing.md): one per `*.yml`/`*.yaml` file.
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

    static let provider: Field<String> = .text("provider", "the provider the probe speaks for (lower-case letters, digits, `_`, `-`)")
    static let name: Field<String?> = .optionalText("name", none: "the file's name", "the probe's name, unique among specs")
    static let url: Field<String> = .text("url", type: "URL", "the endpoint; `${VAR}` is filled from the environment")
    static let method = Field<String>(
        FieldDescription(name: "method", type: "string", defaultText: "GET", bounds: "GET, POST, HEAD, PUT", meaning: "the HTTP method")
    ) { yaml throws(ConfigError) in
        let method = (try yaml.optionalString("method") ?? "GET").uppercased()
        guard ["GET", "POST", "HEAD", "PUT"].contains(method) else {
            throw yaml.error("method", "'\(method.prefix(40))' is not one of GET, POST, HEAD, PUT")
        }
        return method
    }
    static let headersSection = ConfigSection(
        "probe spec.headers", "Request headers; values may hold `${VAR}`.", entries: .init(key: "a header's name; its value is a string"))
    static let headers: Field<YAMLFields?> = .section("headers", headersSection, "request headers")
    static let body: Field<String?> = .optionalText("body", "the request body (at most 64 KiB; `${VAR}` filled in)")
    /// A probe with no answer by then is a timeout.
    public static let timeout: Field<Duration> = .duration(
        "timeout", default: .seconds(10), max: .seconds(300), "a probe with no answer by then is a timeout")
    /// Slower than this counts as slow; at most `timeout`.
    public static let latencyBudget = Field<Duration>(
        FieldDescription(
            name: "latency_budget", type: "duration", defaultText: "5s, or timeout when shorter", bounds: "at most timeout",
            meaning: "an answer slower than this counts as slow")
    ) { yaml throws(ConfigError) in
        let limit = try yaml.duration("timeout", default: .seconds(10), max: .seconds(300))
        let budget = try yaml.duration("latency_budget", default: min(.seconds(5), limit))
        guard budget > .zero else { throw yaml.error("latency_budget", "must be more than 0") }
        guard budget <= limit else { throw yaml.error("latency_budget", "must not exceed timeout (\(DurationText.format(limit)))") }
        return budget
    }
    static let expectBody: Field<String> = .text(
        "expect_body", default: "json", choices: ["json", "any"], "`json`: a 2xx whose body is not JSON is a failure")
    static let freshConnection: Field<Bool> = .boolean(
        "fresh_connection", default: true, "a new connection per probe, so DNS, TCP and TLS are measured every time")
    static let stream: Field<Bool> = .boolean("stream", default: false, "read a streamed answer (SSE or AWS event stream) to its end")
    static let model: Field<String?> = .optionalText("model", "the model the probe speaks for, as the catalog names it")
    /// US dollars one probe costs: at least 0, below 1.
    public static let costPerProbe = Field<Double>(
        FieldDescription(
            name: "cost_per_probe", type: "number", defaultText: "0", bounds: "0 to below 1",
            meaning: "US dollars one probe costs, for `check` and `agent.max_probe_cost_per_day`")
    ) { yaml throws(ConfigError) in
        let cost = try yaml.optionalDouble("cost_per_probe") ?? 0
        guard cost >= 0, cost < 1 else { throw yaml.error("cost_per_probe", "must be between 0 and 1 (US dollars per probe)") }
        return cost
    }

    enum AWS {
        static let region: Field<String> = .text("region", "the AWS Region")
        static let service: Field<String> = .text("service", default: "bedrock", "the signing service name")
        static let accessKeyID: Field<String> = .text("access_key_id", "the access key id, usually `${AWS_ACCESS_KEY_ID}`")
        static let secretAccessKey: Field<String> = .text("secret_access_key", "the secret key, usually `${AWS_SECRET_ACCESS_KEY}`")
        static let sessionToken: Field<String?> = .optionalText("session_token", "a session token (temporary credentials)")
    }
    static let awsSection = ConfigSection(
        "probe spec.auth.aws_sigv4", "Sign each request with AWS Signature Version 4; values may hold `${VAR}`.", AWS.region,
        AWS.service, AWS.accessKeyID, AWS.secretAccessKey, AWS.sessionToken)

    enum Google {
        static let file: Field<String?> = .optionalText("file", "a file holding the token, re-read when it changes")
        static let command: Field<String?> = .optionalText(
            "command", "a command printing the token (e.g. `gcloud auth print-access-token`)")
        static let metadata: Field<String?> = .optionalURL(
            "metadata", "the metadata server (GKE Workload Identity, GCE), e.g. `http://metadata.google.internal`")
        static let lifetime: Field<Duration> = .duration(
            "lifetime", default: .seconds(300), max: .seconds(3600), "how long a token read is used before it is read again")
    }
    /// Where a Google access token comes from: exactly one of `file` or `command`.
    public static let googleTokenSection = ConfigSection(
        "google_token",
        "Where a Google access token comes from (a probe spec's `auth.google_token`, `model_probes.vertex.google_token`): "
            + "exactly one of file, command or metadata; values may hold `${VAR}`.", Google.file, Google.command, Google.metadata,
        Google.lifetime)

    static let awsSigV4: Field<YAMLFields?> = .section("aws_sigv4", awsSection, "AWS Signature Version 4 (Bedrock)")
    static let googleToken: Field<YAMLFields?> = .section("google_token", googleTokenSection, "a Google bearer token (Vertex AI)")
    static let authSection = ConfigSection("probe spec.auth", "How the request is authorised: exactly one of these.", awsSigV4, googleToken)
    static let auth: Field<YAMLFields?> = .section("auth", authSection, "signing or a token beyond the headers")

    /// A probe spec file's fields.
    public static let section = ConfigSection(
        "probe spec", "One file of `agent.probes`: one request the agent sends to judge a provider.", provider, name, url, method,
        headers, body, timeout, latencyBudget, auth, expectBody, freshConnection, stream, model, costPerProbe)

    public static func parse(_ file: YAMLFields, environment: [String: String]) throws(ConfigError) -> ProbeSpec {
        let yaml = try file.conform(to: section)
        func expand(_ text: String, _ field: String, in fields: YAMLFields = yaml) throws(ConfigError) -> String {
            do { return try Interpolation.expand(text, environment: environment) } catch {
                throw fields.error(field, error.description)
            }
        }
        let provider = try yaml.read(Self.provider)
        guard isIdentifier(provider) else { throw yaml.error("provider", "'\(provider)' must be lower-case letters, digits, '_' or '-'") }
        let url = try expand(try yaml.read(Self.url), "url")
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw yaml.error("url", "'\(url)' must start with https:// or http://")
        }
        var headers: [HTTPHeader] = []
        if let fields = try yaml.read(Self.headers) {
            for name in fields.keys { headers.append(HTTPHeader(name, try expand(try fields.string(name), name, in: fields))) }
        }
        let body = try yaml.read(Self.body).map { text throws(ConfigError) in try expand(text, "body") }
        if let body, body.utf8.count > ProbeSpec.maxBodyBytes {
            throw yaml.error("body", "is \(body.utf8.count) bytes; a probe sends at most \(ProbeSpec.maxBodyBytes)")
        }
        if let body, let payload = body.data(using: .utf8), (try? JSONSerialization.jsonObject(with: payload)) == nil,
            headers.contains(where: { $0.name.lowercased() == "content-type" && $0.value.contains("json") })
        {
            throw yaml.error("body", "is not valid JSON, yet content-type says JSON")
        }
        let stem = ((yaml.file as NSString).lastPathComponent as NSString).deletingPathExtension
        let spec = ProbeSpec(
            provider: provider, name: try yaml.read(Self.name) ?? stem, model: try yaml.read(Self.model),
            costPerProbe: try yaml.read(Self.costPerProbe), file: yaml.file, method: try yaml.read(Self.method), url: url,
            headers: headers, body: body, timeout: try yaml.read(Self.timeout), latencyBudget: try yaml.read(Self.latencyBudget),
            auth: try parseAuth(yaml, environment: environment),
            expectBody: ProbeSpec.BodyExpectation(rawValue: try yaml.read(Self.expectBody))!,
            freshConnection: try yaml.read(Self.freshConnection), stream: try yaml.read(Self.stream))
        Secrets.register(spec.secrets)
        return spec
    }

    private static func parseAuth(_ yaml: YAMLFields, environment: [String: String]) throws(ConfigError) -> ProbeAuth? {
        guard let auth = try yaml.read(Self.auth) else { return nil }
        switch (try auth.read(Self.awsSigV4), try auth.read(Self.googleToken)) {
        case (let aws?, nil):
            func expanded(_ text: String, _ key: String) throws(ConfigError) -> String {
                do { return try Interpolation.expand(text, environment: environment) } catch { throw aws.error(key, error.description) }
            }
            func value(_ field: Field<String>) throws(ConfigError) -> String {
                let text = try expanded(try aws.read(field), field.name)
                guard !text.isEmpty else { throw aws.error(field.name, "is empty") }
                return text
            }
            let token = try aws.read(AWS.sessionToken).map { text throws(ConfigError) in try expanded(text, "session_token") }
            let credentials = AWSCredentials(
                accessKeyID: try value(AWS.accessKeyID), secretAccessKey: try value(AWS.secretAccessKey),
                sessionToken: token?.isEmpty == true ? nil : token)
            return .awsSigV4(SigV4Signer(region: try value(AWS.region), service: try value(AWS.service), credentials: credentials))
        case (nil, let google?): return .googleToken(try googleToken(google, environment: environment))
        default: throw auth.error(nil, "needs exactly one of aws_sigv4 or google_token")
        }
    }

    /// A `google_token` mapping checked against ``googleTokenSection``, `${VAR}`s filled in.
    public static func googleToken(_ fields: YAMLFields, environment: [String: String]) throws(ConfigError) -> GoogleTokenSource {
        let google = try fields.conform(to: googleTokenSection)
        func value(_ field: Field<String?>) throws(ConfigError) -> String? {
            guard let text = try google.read(field) else { return nil }
            do { return try Interpolation.expand(text, environment: environment) } catch {
                throw google.error(field.name, error.description)
            }
        }
        let lifetime = try google.read(Google.lifetime)
        switch (try value(Google.file), try value(Google.command), try google.read(Google.metadata)) {
        case (let file?, nil, nil): return GoogleTokenSource(origin: .file(file), lifetime: lifetime)
        case (nil, let command?, nil): return GoogleTokenSource(origin: .command(command), lifetime: lifetime)
        case (nil, nil, let address?): return GoogleTokenSource(origin: .metadata(address), lifetime: lifetime)
        default: throw google.error(nil, "needs exactly one of file, command or metadata")
        }
    }

    private static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
