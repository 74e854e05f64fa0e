import ControlAPI
import Foundation
import ProbeTemplates
import Probing
import YAMLConfig

/// Reads `model_probes:` (provider → how to reach it for the probes derived from the catalog).
enum ModelProbesLoader {
    static let baseURL: Field<String?> = .optionalURL("base_url", "the provider's API address instead of its public one")
    static let apiKey: Field<Credential?> = .optionalCredential("api_key", "the API key (Anthropic, OpenAI, Fireworks, Mistral)")
    static let project: Field<String?> = .optionalText("project", "the GCP project (Vertex AI; required there)")
    static let location: Field<String?> = .optionalText(
        "location", none: "the model's own", "the Vertex AI location instead of the one the catalog gives each model")
    static let googleToken: Field<YAMLFields?> = .section(
        "google_token", ProbeSpecLoader.googleTokenSection, "where Vertex AI's access token comes from (required there)")
    static let region: Field<String?> = .optionalText("region", none: "us-east-1", "the AWS Region (Bedrock)")
    static let accessKeyID: Field<Credential?> = .optionalCredential("access_key_id", "the AWS access key id (Bedrock)")
    static let secretAccessKey: Field<Credential?> = .optionalCredential("secret_access_key", "the AWS secret access key (Bedrock)")
    static let sessionToken: Field<Credential?> = .optionalCredential("session_token", "an AWS session token (Bedrock)")
    static let roleARN: Field<String> = .text(
        "role_arn", "the IAM role to assume (EKS IRSA: the service account's `eks.amazonaws.com/role-arn`)")
    static let tokenFile: Field<String> = .path(
        "token_file", default: AWSWebIdentity.eksTokenFile, "the web identity token, read again at each assume (it rotates)")
    static let sessionName: Field<String> = .text("session_name", default: "failover-agent", "the role session's name")
    static let stsURL: Field<String?> = .optionalURL("sts_url", "STS's address (none: `https://sts.<region>.amazonaws.com`)")
    static let webIdentitySection = ConfigSection(
        "model_probes.bedrock.web_identity",
        "AWS credentials from STS `AssumeRoleWithWebIdentity`, as EKS provides them; used until five minutes before they expire.",
        roleARN, tokenFile, sessionName, stsURL)
    static let webIdentity: Field<YAMLFields?> = .section(
        "web_identity", webIdentitySection, "Bedrock: assume a role with the pod's web identity token instead of access keys")
    static let containerURL: Field<String> = .url(
        "url", default: AWSCredentialOrigin.podIdentityURL, "the credentials endpoint (EKS Pod Identity's agent; ECS's full URI)")
    static let containerToken: Field<String?> = .optionalPath(
        "token_file", "the token sent as `Authorization` (EKS Pod Identity: `\(AWSCredentialOrigin.podIdentityTokenFile)`)")
    static let containerSection = ConfigSection(
        "model_probes.bedrock.container_credentials",
        "AWS credentials from a container credentials endpoint (EKS Pod Identity, ECS); used until five minutes before they expire.",
        containerURL, containerToken)
    static let containerCredentials: Field<YAMLFields?> = .section(
        "container_credentials", containerSection, "Bedrock: credentials from the pod's credentials endpoint instead of access keys")
    static let stream: Field<Bool> = .boolean("stream", default: false, "probe the streaming endpoint")
    static let timeout: Field<Duration> = .duration(
        "timeout", default: .seconds(10), max: .seconds(300), "a probe with no answer by then is a timeout")
    static let latencyBudget = ProbeSpecLoader.latencyBudget
    static let costPerProbe = Field<Double?>(
        FieldDescription(
            name: "cost_per_probe", type: "number", defaultText: "the provider's estimate", bounds: "0 to below 1",
            meaning: "US dollars one probe costs, for `check` and `agent.max_probe_cost_per_day`")
    ) { yaml throws(ConfigError) in yaml.has("cost_per_probe") ? try yaml.read(ProbeSpecLoader.costPerProbe) : nil }
    static let providerSection = ConfigSection(
        "model_probes.<provider>", "How to reach one provider for the probes derived from the catalog.", baseURL, apiKey, project,
        location, googleToken, region, accessKeyID, secretAccessKey, sessionToken, webIdentity, containerCredentials, stream, timeout,
        latencyBudget, costPerProbe
    )
    static let section = ConfigSection(
        "model_probes", "Probes derived from the catalog for every default and replacement model, per provider.",
        entries: .init(
            key: "a provider with a probe template: \(ProbeTemplate.providers.sorted().joined(separator: ", "))", value: providerSection))

    static func parse(_ checked: YAMLFields) throws(ConfigError) -> ModelProbes {
        let yaml = try checked.conform(to: section)
        var providers: [String: ProviderAccess] = [:]
        for provider in yaml.keys {
            guard let mapping = try yaml.optionalFields(provider) else { throw yaml.error(provider, "expected a mapping") }
            guard ProbeTemplate.providers.contains(provider) else {
                throw yaml.error(
                    provider,
                    "no probe template for '\(provider)' (there are: \(ProbeTemplate.providers.sorted().joined(separator: ", "))); "
                        + "write a spec in agent.probes for it")
            }
            let fields = try mapping.conform(to: providerSection)
            var access = ProviderAccess(provider: provider)
            access.baseURL = try fields.read(baseURL).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            access.apiKey = try fields.read(apiKey)
            access.project = try fields.read(project)
            access.location = try fields.read(location)
            if let google = try fields.read(googleToken) {
                access.googleToken = try ProbeSpecLoader.googleToken(google, environment: ProcessInfo.processInfo.environment)
            }
            access.region = try fields.read(region)
            access.accessKeyID = try fields.read(accessKeyID)
            access.secretAccessKey = try fields.read(secretAccessKey)
            access.sessionToken = try fields.read(sessionToken)
            if let identity = try fields.read(webIdentity) {
                access.awsOrigin = .webIdentity(
                    AWSWebIdentity(
                        roleARN: try identity.read(roleARN), tokenFile: try identity.read(tokenFile),
                        sessionName: try identity.read(sessionName),
                        stsURL: try identity.read(stsURL) ?? "https://sts.\(access.region ?? "us-east-1").amazonaws.com"))
            }
            if let container = try fields.read(containerCredentials) {
                if access.awsOrigin != nil {
                    throw fields.error("container_credentials", "give web_identity or container_credentials, not both")
                }
                access.awsOrigin = .container(url: try container.read(containerURL), tokenFile: try container.read(containerToken))
            }
            access.stream = try fields.read(stream)
            access.timeout = try fields.read(timeout)
            access.latencyBudget = try fields.read(latencyBudget)
            access.costPerProbe = try fields.read(costPerProbe)
            switch provider {
            case "vertex":
                if access.project == nil { throw fields.error(nil, "missing required field \(fields.fieldPath("project"))") }
                if access.googleToken == nil { throw fields.error(nil, "missing required field \(fields.fieldPath("google_token"))") }
            case "bedrock":
                if (access.accessKeyID == nil || access.secretAccessKey == nil) && access.awsOrigin == nil {
                    throw fields.error(
                        nil,
                        "\(fields.path) needs access_key_id_env and secret_access_key_env (or _file), web_identity or container_credentials"
                    )
                }
            default:
                if access.apiKey == nil { throw fields.error(nil, "\(fields.path) needs exactly one of api_key_env or api_key_file") }
            }
            providers[provider] = access
        }
        return ModelProbes(providers: providers)
    }
}
