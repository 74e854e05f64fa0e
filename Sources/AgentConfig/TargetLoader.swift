import Actions
import AgentCore
import ControlAPI
import Foundation
import GatewayClient
import GitLabClient
import Leadership
import Lifecycle
import TrafficClient
import VaultClient
import YAMLConfig

/// Reads one entry of `targets:`: a gateway deployment, its secret and its deploy pipeline.
enum TargetLoader {
    static let name: Field<String> = .text("name", "the target's name, unique in the file (pages, the journal and `--target` use it)")
    static let mode: Field<String> = .text(
        "mode", default: "propose", choices: ["propose", "perform"],
        "`propose` pages a person with an approval command; `perform` acts without asking")
    static let group: Field<String?> = .optionalText(
        "group", "targets of one group (e.g. AIGW and DWS) fail over as one incident: one proposal, one change request, one restore")
    static let vault: Field<YAMLFields?> = .section("vault", vaultSection, required: true, "the Vault KV v2 secret holding the override")
    static let gitlab: Field<YAMLFields?> = .section("gitlab", gitlabSection, required: true, "the deployment project and its deploy job")
    static let changeRequest: Field<YAMLFields?> = .section(
        "change_request", changeRequestSection, "open an issue as the change request of each action, closed when it ends")
    static let gateway: Field<YAMLFields?> = .section(
        "gateway", gatewaySection, "verify live that the gateway serves the change (none: the deploy's end is trusted)")
    static let traffic: Field<YAMLFields?> = .section(
        "traffic", trafficSection, none: "none: probes alone",
        "the gateway's Prometheus: its request counts judge brownouts in seconds, probes confirm")
    static let restoreRedeploy: Field<Bool> = .boolean(
        "restore_redeploy", default: false, "redeploy after a restore (the runbook waits for the next regular deployment instead)")
    static let drill: Field<YAMLFields?> = .section(
        "drill", drillSection, none: "none: the target cannot be drilled",
        "fire drills: a real failover and restore of one provider on a schedule (staging, typically)")
    static let section = ConfigSection(
        "targets[]", "One gateway deployment the agent manages.", name, mode, group, vault, gitlab, changeRequest, gateway,
        traffic, restoreRedeploy, drill)

    enum Drill {
        static let provider: Field<String> = .text("provider", "the provider the drill fails over (and restores)")
        static let every: Field<Duration> = .duration(
            "every", default: .seconds(7 * 86_400), max: .seconds(90 * 86_400), "how often a drill must succeed (`168h` is a week)")
        static let window: Field<String?> = .optionalText(
            "window", none: "any time", "when drills may start, in UTC: `Tue 09:00-12:00 UTC`, `Mon,Thu 14:00-16:00 UTC`, `09:00-17:00 UTC`"
        )
    }
    static let drillSection = ConfigSection(
        "targets[].drill",
        "A fire drill: `run` fails `provider` over and restores it (each with its redeploy, verified) every `every`, inside "
            + "`window`, when every provider is healthy and nothing else is under way; `failover-agent drill` runs one by hand.",
        Drill.provider, Drill.every, Drill.window)

    private static func drill(_ fields: YAMLFields) throws(ConfigError) -> DrillSettings {
        var window: DrillWindow?
        if let text = try fields.read(Drill.window) {
            do { window = try DrillWindow(parsing: text) } catch { throw fields.error("window", error.description) }
        }
        return DrillSettings(provider: try fields.read(Drill.provider), every: (try fields.read(Drill.every)).seconds, window: window)
    }

    static func parse(_ fields: YAMLFields) throws(ConfigError) -> Target {
        let item = try fields.conform(to: section)
        let vault = try item.require(vault)
        let gitlab = try item.require(gitlab)
        let vaultSettings = VaultSettings(
            address: try vault.read(Vault.address), namespace: try vault.read(Vault.namespace), mount: try vault.read(Vault.mount),
            path: try vault.read(Vault.path), key: try vault.read(Vault.key), auth: try vaultAuth(vault))
        let gitlabSettings = GitLabSettings(
            url: try gitlab.read(GitLab.url), project: try gitlab.read(GitLab.project), ref: try gitlab.read(GitLab.ref),
            deployJob: try gitlab.read(GitLab.deployJob), environment: try gitlab.read(GitLab.environment),
            expedited: try gitlab.read(GitLab.expedited), expeditedScope: try gitlab.read(GitLab.expeditedScope),
            token: try gitlab.read(GitLab.token), followTimeout: try gitlab.read(GitLab.followTimeout),
            pollInterval: try gitlab.read(GitLab.pollInterval),
            pipelineSources: try gitlab.read(GitLab.pipelineSources) ?? GitLabSettings.defaultPipelineSources,
            newerDeployTimeout: try gitlab.read(GitLab.newerDeployTimeout),
            catalogFiles: .init(models: try gitlab.read(GitLab.modelsFile), unitPrimitives: try gitlab.read(GitLab.unitPrimitivesFile)))
        return Target(
            name: try item.read(name), mode: ActionMode(rawValue: try item.read(mode))!, vault: vaultSettings, gitlab: gitlabSettings,
            changeRequest: try item.read(changeRequest).map(Self.changeRequest),
            gateway: try item.read(gateway).map(Self.gateway), restoreRedeploy: try item.read(restoreRedeploy),
            group: try item.read(group), drill: try item.read(drill).map(Self.drill))
    }

    enum Vault {
        static let address: Field<String> = .url("address", "Vault's address")
        static let namespace: Field<String?> = .optionalText("namespace", "the Vault Enterprise namespace (`X-Vault-Namespace`)")
        static let mount: Field<String> = .text("mount", default: "runway", "the KV v2 secrets engine's mount")
        static let path: Field<String> = .text("path", "the secret's path under the mount")
        static let key: Field<String> = .text(
            "key", default: "value", "the secret's key holding the environment variable's JSON (`AIGW_MODEL_SELECTION__DEFAULT_MODELS`)")
        static let token: Field<Credential?> = .optionalCredential(
            "token", "a static Vault token; a file is read again when it changes (a Vault Agent sink) — exactly one of token or auth")
        static let auth: Field<YAMLFields?> = .section(
            "auth", authSection, "log in with the pod's identity instead of a static token, renewed before its TTL ends")
        static let method: Field<String> = .text(
            "method", default: "kubernetes", choices: VaultLogin.Method.allCases.map(\.rawValue),
            "Vault's auth method: `kubernetes` (the service-account token) or `jwt` (any OIDC identity token)")
        static let loginMount: Field<String?> = .optionalText("mount", none: "the method's name", "the auth method's mount")
        static let role: Field<String> = .text("role", "the Vault role to log in as")
        static let jwtFile: Field<String> = .path(
            "jwt_file", default: VaultLogin.serviceAccountToken, "the identity token, read again at each login (it rotates)")
        static let authSection = ConfigSection(
            "targets[].vault.auth",
            "A login (`POST auth/<mount>/login`); the token is renewed at two thirds of its TTL and replaced by "
                + "a new login when renewal is refused or the max TTL nears.", method, loginMount, role, jwtFile)
    }

    static func vaultAuth(_ vault: YAMLFields) throws(ConfigError) -> VaultAuth {
        switch (try vault.read(Vault.token), try vault.read(Vault.auth)) {
        case (let token?, nil): return .token(token)
        case (nil, let auth?):
            return .login(
                VaultLogin(
                    method: VaultLogin.Method(rawValue: try auth.read(Vault.method))!, mount: try auth.read(Vault.loginMount),
                    role: try auth.read(Vault.role), jwtFile: try auth.read(Vault.jwtFile)))
        default: throw vault.error(nil, "\(vault.path) needs exactly one of token_env, token_file or auth")
        }
    }

    static let vaultSection = ConfigSection(
        "targets[].vault", "The KV v2 secret; it is written with check-and-set on the version read.", Vault.address, Vault.namespace,
        Vault.mount, Vault.path, Vault.key, Vault.token, Vault.auth)

    enum GitLab {
        static let url: Field<String> = .url("url", "GitLab's address")
        static let project: Field<String> = .text("project", "the deployment project (path or numeric id)")
        static let ref: Field<String> = .text("ref", default: "main", "the branch whose latest pipeline is redeployed")
        static let deployJob = Field<DeployJobMatcher>(
            FieldDescription(
                name: "deploy_job", type: "string or mapping", defaultText: "required",
                bounds: "a job name, `/^…$/`, or {service, environment}",
                meaning: "the trigger job to retry; it must match exactly one job of the latest pipeline", nested: deployJobSection)
        ) { gitlab throws(ConfigError) in
            if gitlab.holdsMapping("deploy_job"), let fields = try gitlab.optionalFields("deploy_job")?.conform(to: deployJobSection) {
                return .service(try fields.read(DeployJob.service), environment: try fields.read(DeployJob.environment))
            }
            switch DeployJobMatcher.parse(try gitlab.string("deploy_job")) {
            case .success(let matcher): return matcher
            case .failure(let problem): throw gitlab.error("deploy_job", problem.description)
            }
        }
        static let environment: Field<String?> = .optionalText(
            "environment", "the GitLab environment of the deploy (none: any)")
        static let expedited: Field<Bool> = .boolean(
            "expedited", default: false, "set the project's expedited-deploy variable for the retried deploy, and remove it after")
        static let expeditedScope: Field<String> = .text("expedited_scope", default: "*", "the variable's environment scope")
        static let token: Field<Credential> = .credential(
            "token", "a GitLab token with scope `api` (Developer retries jobs; Maintainer sets variables)")
        static let followTimeout: Field<Duration> = .duration(
            "follow_timeout", default: .seconds(1800), max: .seconds(6 * 3600), "how long a retried deploy is followed to its end")
        static let pollInterval: Field<Duration> = .duration(
            "poll_interval", default: .seconds(10), max: .seconds(300), "how often the deploy's jobs are read while followed")
        static let pipelineSources: Field<[String]?> = .strings(
            "pipeline_sources", none: "push, web",
            "the pipeline sources that deploy: the latest pipeline is chosen among these (not scheduled, API or security-policy ones)")
        static let modelsFile: Field<String> = .text(
            "models_file", default: GitLabSettings.defaultCatalogFiles.models,
            "the gateway's models.yml in the project: read at the deployed SHA when the target has no gateway URL")
        static let unitPrimitivesFile: Field<String> = .text(
            "unit_primitives_file", default: GitLabSettings.defaultCatalogFiles.unitPrimitives,
            "the gateway's unit_primitives.yml in the project: read at the deployed SHA when the target has no gateway URL")
        static let newerDeployTimeout: Field<Duration> = .duration(
            "newer_deploy_timeout", default: .seconds(1800), max: .seconds(6 * 3600),
            "how long a failover waits for a newer pipeline's production deploy to start before it decides again")
    }

    enum DeployJob {
        static let service: Field<String> = .text("service", "the Runway service whose trigger job to retry")
        static let environment: Field<String> = .text("environment", "the Runway environment (e.g. production)")
    }

    static let gitlabSection = ConfigSection(
        "targets[].gitlab", "The deployment project; the latest pipeline's deploy job is retried after its SHA is checked.",
        GitLab.url, GitLab.project, GitLab.ref, GitLab.deployJob, GitLab.environment, GitLab.expedited, GitLab.expeditedScope,
        GitLab.token, GitLab.followTimeout, GitLab.pollInterval, GitLab.pipelineSources, GitLab.newerDeployTimeout, GitLab.modelsFile,
        GitLab.unitPrimitivesFile)
    static let deployJobSection = ConfigSection(
        "targets[].gitlab.deploy_job", "Runway's trigger job of one service in one environment.", DeployJob.service,
        DeployJob.environment)

    enum ChangeRequest {
        static let project: Field<String> = .text("project", "the project the change request issue is opened in")
        static let labels: Field<[String]?> = .strings("labels", none: "[]", "labels on the issue")
        static let confidential: Field<Bool> = .boolean("confidential", default: false, "open the issue as confidential")
    }

    static let changeRequestSection = ConfigSection(
        "targets[].change_request", "The change request each action opens (a GitLab issue).", ChangeRequest.project,
        ChangeRequest.labels, ChangeRequest.confidential)

    private static func changeRequest(_ fields: YAMLFields) throws(ConfigError) -> ChangeRequestSettings {
        ChangeRequestSettings(
            project: try fields.read(ChangeRequest.project), labels: try fields.read(ChangeRequest.labels) ?? [],
            confidential: try fields.read(ChangeRequest.confidential))
    }

    enum Gateway {
        static let url: Field<String?> = .optionalURL("url", "the gateway's address (exactly one of url or urls)")
        static let urls: Field<[String]?> = .strings(
            "urls", "every regional gateway of the fleet, each polled until it serves the change (exactly one of url or urls)")
        static let agreeingPolls: Field<Int> = .integer(
            "agreeing_polls", default: 3, in: 1...20, "polls in a row that must agree before a region counts as serving the change")
        static let token: Field<Credential?> = .optionalCredential("token", "a token for the gateway's definitions endpoint")
        static let verifyTimeout: Field<Duration> = .duration(
            "verify_timeout", default: .seconds(900), max: .seconds(6 * 3600), "how long after the deploy the gateway may take to serve it")
        static let pollInterval: Field<Duration> = .duration(
            "poll_interval", default: .seconds(10), max: .seconds(300), "how often the gateway is polled while verifying")
        static let nextDeploymentTimeout: Field<Duration> = .duration(
            "next_deployment_timeout", default: .seconds(72 * 3600), max: .seconds(30 * 86_400),
            "how long a restore without redeploy waits for the next regular deployment to be verified")
    }

    enum Traffic {
        static let url: Field<String> = .url("url", "the Prometheus-compatible query API's base URL (`/api/v1/query` is added)")
        static let token: Field<Credential?> = .optionalCredential("token", "a read-only query token, sent as a bearer token")
        static let tenant: Field<String?> = .optionalText(
            "tenant", "sent as X-Scope-OrgID: the tenant of a multi-tenant store (GitLab's Mimir: `runway`)")
        static let basicAuth: Field<YAMLFields?> = .section(
            "basic_auth", basicAuthSection, none: "none", "HTTP basic auth instead of a bearer token (Mimir behind its gateway)")
        static let selector: Field<String?> = .optionalText(
            "selector",
            "label matchers added to both default queries, e.g. `type=\"ai-gateway\", env=\"gprd\"`: one service of one environment")
        static let interval: Field<Duration> = .duration(
            "interval", default: .seconds(30), max: .seconds(600), "how often the counts are read, and the window each covers")
        static let staleAfter: Field<Duration> = .duration(
            "stale_after", default: .seconds(120), max: .seconds(3600), "a reading whose newest sample is older is not evidence")
        static let requests: Field<String> = .text(
            "requests_query", default: TrafficSettings.defaultRequestsQuery,
            "counts per series over the window (`$window` is the interval); labels model_engine, model_name, error, error_type")
        static let latest: Field<String> = .text(
            "latest_query", default: TrafficSettings.defaultLatestQuery, "the time of the newest sample behind the counts")
        static let callerErrors: Field<[String]?> = .strings(
            "caller_error_types", none: TrafficMapping.defaultCallerErrorTypes.joined(separator: ", "),
            "error_type values that are the caller's fault: neither requests nor failures")
    }

    static let trafficSection = ConfigSection(
        "targets[].traffic", "The gateway's own metrics (`model_inferences_total`) in a Prometheus-compatible query API.", Traffic.url,
        Traffic.token, Traffic.basicAuth, Traffic.tenant, Traffic.selector, Traffic.interval, Traffic.staleAfter, Traffic.requests,
        Traffic.latest, Traffic.callerErrors)

    enum BasicAuth {
        static let username: Field<String> = .text("username", "the user name")
        static let password: Field<Credential> = .credential("password", "the password")
    }

    static let basicAuthSection = ConfigSection(
        "targets[].traffic.basic_auth", "HTTP basic auth to the query API.", BasicAuth.username, BasicAuth.password)

    /// The target's traffic source, if it has one.
    static func traffic(_ fields: YAMLFields) throws(ConfigError) -> TrafficSettings? {
        guard let yaml = try fields.conform(to: section).read(traffic) else { return nil }
        let interval = try yaml.read(Traffic.interval)
        let staleAfter = try yaml.read(Traffic.staleAfter)
        if staleAfter < interval { throw yaml.error("stale_after", "must not be below interval") }
        let token = try yaml.read(Traffic.token)
        let basic = try yaml.read(Traffic.basicAuth).map { fields throws(ConfigError) in
            TrafficSettings.BasicAuth(username: try fields.read(BasicAuth.username), password: try fields.read(BasicAuth.password))
        }
        if token != nil, basic != nil { throw yaml.error("basic_auth", "give a bearer token or basic_auth, not both") }
        let selector = try yaml.read(Traffic.selector)
        if selector != nil, yaml.has("requests_query") || yaml.has("latest_query") {
            throw yaml.error("selector", "applies to the default queries only: write the matchers into requests_query and latest_query")
        }
        let requests = try yaml.read(Traffic.requests)
        let latest = try yaml.read(Traffic.latest)
        return TrafficSettings(
            url: try yaml.read(Traffic.url), token: token, basicAuth: basic, tenant: try yaml.read(Traffic.tenant), interval: interval,
            staleAfter: staleAfter, requestsQuery: selector.map(TrafficSettings.requestsQuery(selector:)) ?? requests,
            latestQuery: selector.map(TrafficSettings.latestQuery(selector:)) ?? latest,
            callerErrorTypes: try yaml.read(Traffic.callerErrors) ?? TrafficMapping.defaultCallerErrorTypes)
    }

    static let gatewaySection = ConfigSection(
        "targets[].gateway", "The gateway's `/v1/models/definitions`, read to verify live what it serves.", Gateway.url, Gateway.urls,
        Gateway.agreeingPolls, Gateway.token, Gateway.verifyTimeout, Gateway.pollInterval, Gateway.nextDeploymentTimeout)

    private static func gateway(_ fields: YAMLFields) throws(ConfigError) -> GatewaySettings {
        let urls: [String]
        switch (try fields.read(Gateway.url), try fields.read(Gateway.urls)) {
        case (let url?, nil): urls = [url]
        case (nil, let list?):
            guard !list.isEmpty else { throw fields.error("urls", "needs at least one URL") }
            for each in list where !(each.hasPrefix("https://") || each.hasPrefix("http://")) {
                throw fields.error("urls", "'\(each.prefix(80))' must start with https:// or http://")
            }
            guard Set(list).count == list.count else { throw fields.error("urls", "a URL is listed twice") }
            urls = list
        default: throw fields.error(nil, "\(fields.path) needs exactly one of url or urls")
        }
        let settings = GatewaySettings(
            urls: urls, token: try fields.read(Gateway.token), verifyTimeout: try fields.read(Gateway.verifyTimeout),
            pollInterval: try fields.read(Gateway.pollInterval), agreeingPolls: try fields.read(Gateway.agreeingPolls),
            nextDeploymentTimeout: try fields.read(Gateway.nextDeploymentTimeout))
        // A change is verified after agreeing_polls polls in a row, poll_interval apart: a shorter
        // verify_timeout could never verify anything.
        let needed = settings.pollInterval * settings.agreeingPolls
        if settings.verifyTimeout < needed {
            throw fields.error(
                "verify_timeout",
                "\(settings.verifyTimeout) is shorter than agreeing_polls (\(settings.agreeingPolls)) × poll_interval "
                    + "(\(settings.pollInterval)) = \(needed): no change could ever be verified; make it at least \(needed)")
        }
        return settings
    }
}
