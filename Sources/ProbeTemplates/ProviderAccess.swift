import ControlAPI
import Probing

/// How the agent reaches one provider for the probes it derives from the catalog
/// (`model_probes.<provider>` in the config): where, with which credentials, and what one
/// probe costs. Credentials are named here and read from the environment or a file only when the
/// probes are built.
public struct ProviderAccess: Sendable {
    public var provider: String
    /// Replaces the provider's public endpoint (scheme and host, optionally a path prefix): a
    /// regional or private endpoint, or a simulator.
    public var baseURL: String?
    /// Anthropic, OpenAI, Fireworks, Mistral: the API key.
    public var apiKey: Credential?
    /// Vertex AI: the project, and the location for models whose `prompt_params.vertex_location` is
    /// unset (nil: `global`, the gateway's default).
    public var project: String?
    public var location: String?
    /// Vertex AI: where its OAuth access tokens come from.
    public var googleToken: GoogleTokenSource?
    /// Bedrock: the region and AWS credentials (the session token is optional).
    public var region: String?
    public var accessKeyID: Credential?
    public var secretAccessKey: Credential?
    public var sessionToken: Credential?
    /// Bedrock on EKS: temporary credentials (a web identity, or the container endpoint) instead of keys.
    public var awsOrigin: AWSCredentialOrigin?
    /// Read the answer as a server-sent event stream to its final event.
    public var stream: Bool
    public var timeout: Duration
    public var latencyBudget: Duration
    /// US dollars per probe; nil: the template's estimate (``ProbeTemplate/estimatedCost``).
    public var costPerProbe: Double?

    public init(
        provider: String, baseURL: String? = nil, apiKey: Credential? = nil, project: String? = nil, location: String? = nil,
        googleToken: GoogleTokenSource? = nil, region: String? = nil, accessKeyID: Credential? = nil,
        secretAccessKey: Credential? = nil, sessionToken: Credential? = nil, stream: Bool = false, timeout: Duration = .seconds(10),
        latencyBudget: Duration = .seconds(5), costPerProbe: Double? = nil
    ) {
        self.provider = provider
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.project = project
        self.location = location
        self.googleToken = googleToken
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.stream = stream
        self.timeout = timeout
        self.latencyBudget = latencyBudget
        self.costPerProbe = costPerProbe
    }
}
