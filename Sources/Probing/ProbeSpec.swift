import AWSSigning
import ControlAPI
import HTTP
import ProbeResults
import Secrets

/// One probe, as loaded from a file in `probes/` with every `${VAR}` filled in.
public struct ProbeSpec: Sendable {
    /// The provider this probe speaks for (`anthropic`, `vertex`, `bedrock`, …).
    public var provider: String
    /// The probe's name: the `name` field, else the file name without extension.
    public var name: String
    /// The model this probe asks (its `gitlab_identifier` in `models.yml`); nil: it speaks for the whole provider.
    public var model: String?
    /// What its results judge: the provider, or the model on it (``Subject``).
    public var subject: String { Subject.key(provider: provider, model: model) }
    /// What one probe costs, in US dollars (for `check` and `agent.max_probe_cost_per_day`).
    public var costPerProbe: Double
    public var file: String
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    /// Headers whose value is read from a file at each probe (`api_key_file`: a rotated key needs no restart).
    public var fileHeaders: [FileHeader] = []
    public var body: String?
    public var timeout: Duration
    /// Time to first byte beyond this is class `slow`.
    public var latencyBudget: Duration
    public var auth: ProbeAuth?
    /// What a 2xx body must be to count as `ok`.
    public var expectBody: BodyExpectation
    /// Open a new connection for every probe, so DNS, connect and TLS are measured each time.
    public var freshConnection: Bool
    /// The answer is a server-sent event stream, read to its final event: an error event inside a
    /// 200 fails the probe, and the latency budget applies to the first generated token.
    public var stream: Bool

    public enum BodyExpectation: String, Sendable { case json, any }

    /// A header sent as `prefix` + the credential's current value.
    public struct FileHeader: Sendable {
        public var name: String
        public var prefix: String
        public var source: CredentialSource
        public init(name: String, prefix: String = "", source: CredentialSource) {
            (self.name, self.prefix, self.source) = (name, prefix, source)
        }
    }

    /// A probe's request body is small by design (`max_tokens: 1`); larger ones are refused at load.
    public static let maxBodyBytes = 64 << 10

    public init(
        provider: String, name: String, model: String? = nil, costPerProbe: Double = 0, file: String = "", method: String = "GET",
        url: String,
        headers: [HTTPHeader] = [], body: String? = nil, timeout: Duration = .seconds(10),
        latencyBudget: Duration = .seconds(5), auth: ProbeAuth? = nil, expectBody: BodyExpectation = .json,
        freshConnection: Bool = true, stream: Bool = false
    ) {
        self.provider = provider
        self.name = name
        self.model = model
        self.costPerProbe = costPerProbe
        self.file = file
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.latencyBudget = latencyBudget
        self.auth = auth
        self.expectBody = expectBody
        self.freshConnection = freshConnection
        self.stream = stream
    }

    /// Credential values this probe sends: scrubbed from anything it reports.
    public var secrets: [String] {
        var values = headers.filter { Redaction.isSensitive(header: $0.name) }.map(\.value)
        values += fileHeaders.compactMap { try? $0.source.current() }
        if case .awsSigV4(let aws) = auth { values += [aws.credentials.secretAccessKey, aws.credentials.sessionToken].compactMap { $0 } }
        values += Secrets.credentialQueryValues(in: url)
        // A bearer value is also secret without its scheme.
        values += values.compactMap { $0.split(separator: " ", maxSplits: 1).last.map(String.init) }
        return values
    }
}

/// Provider-specific authentication beyond plain headers.
public enum ProbeAuth: Sendable {
    /// AWS Signature V4, signed by the project (``SigV4Signer``) at the moment of sending.
    case awsSigV4(SigV4Signer)
    /// AWS Signature V4 with temporary credentials (EKS IRSA, EKS Pod Identity), fetched again before they expire.
    case awsTemporary(region: String, service: String, AWSCredentialOrigin)
    /// A Google OAuth access token sent as `Authorization: Bearer`, read from a file or printed by a command.
    case googleToken(GoogleTokenSource)
}

/// Where a Google access token comes from, and how long one is reused.
public struct GoogleTokenSource: Sendable, Hashable {
    public enum Origin: Sendable, Hashable {
        case file(String)
        /// Run with `/bin/sh -c`; its standard output (trimmed) is the token.
        case command(String)
        /// The metadata server at this address (GKE Workload Identity, GCE): the default service
        /// account's token, used until a minute before its `expires_in` (or its lifetime, if sooner).
        case metadata(String)
    }
    public var origin: Origin
    public var lifetime: Duration

    public init(origin: Origin, lifetime: Duration = .seconds(300)) {
        self.origin = origin
        self.lifetime = lifetime
    }
}
