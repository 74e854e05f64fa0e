import Actions
import AgentCore
import ControlAPI
import Foundation
import GatewayClient
import GitLabClient
import Leadership
import VaultClient
import YAMLConfig

enum TargetLoader {
    static func parse(_ item: YAMLFields, path: (String) -> String) throws(ConfigError) -> Target {
        try item.rejectUnknownKeys(["name", "mode", "group", "vault", "gitlab", "change_request", "gateway", "restore_redeploy"])
        let name = try item.string("name")
        let modeText = try item.optionalString("mode") ?? "propose"
        guard let mode = ActionMode(rawValue: modeText) else { throw item.error("mode", "'\(modeText)' is not propose or perform") }
        guard let vault = try item.optionalFields("vault") else {
            throw item.error(nil, "missing required field \(item.fieldPath("vault"))")
        }
        guard let gitlab = try item.optionalFields("gitlab") else {
            throw item.error(nil, "missing required field \(item.fieldPath("gitlab"))")
        }
        try vault.rejectUnknownKeys(["address", "namespace", "mount", "path", "key", "token_env", "token_file"])
        try gitlab.rejectUnknownKeys([
            "url", "project", "ref", "deploy_job", "environment", "expedited", "expedited_scope", "token_env", "token_file",
            "follow_timeout", "poll_interval",
        ])
        let vaultSettings = VaultSettings(
            address: try url(vault, "address"), namespace: try vault.optionalString("namespace"),
            mount: try vault.optionalString("mount") ?? "runway",
            path: try vault.string("path"), key: try vault.optionalString("key") ?? "value", token: try vault.credential(path: path)!)
        let deployJob = try deployJobMatcher(gitlab)
        let gitlabSettings = GitLabSettings(
            url: try url(gitlab, "url"), project: try gitlab.string("project"), ref: try gitlab.optionalString("ref") ?? "main",
            deployJob: deployJob, environment: try gitlab.optionalString("environment"),
            expedited: try gitlab.optionalBool("expedited") ?? false, expeditedScope: try gitlab.optionalString("expedited_scope") ?? "*",
            token: try gitlab.credential(path: path)!,
            followTimeout: try gitlab.duration("follow_timeout", default: .seconds(1800), max: .seconds(6 * 3600)),
            pollInterval: try gitlab.duration("poll_interval", default: .seconds(10), max: .seconds(300)))
        return Target(
            name: name, mode: mode, vault: vaultSettings, gitlab: gitlabSettings,
            changeRequest: try item.optionalFields("change_request").map(changeRequest),
            gateway: try item.optionalFields("gateway").map { fields throws(ConfigError) in try gateway(fields, path: path) },
            restoreRedeploy: try item.optionalBool("restore_redeploy") ?? false, group: try item.optionalString("group"))
    }

    /// `deploy_job`: `{service, environment}` (Runway's trigger job of that service), the exact
    /// job name, or an anchored `/^…$/` regular expression.
    private static func deployJobMatcher(_ gitlab: YAMLFields) throws(ConfigError) -> DeployJobMatcher {
        if gitlab.holdsMapping("deploy_job"), let fields = try gitlab.optionalFields("deploy_job") {
            try fields.rejectUnknownKeys(["service", "environment"])
            return .service(try fields.string("service"), environment: try fields.string("environment"))
        }
        switch DeployJobMatcher.parse(try gitlab.string("deploy_job")) {
        case .success(let matcher): return matcher
        case .failure(let problem): throw gitlab.error("deploy_job", problem.description)
        }
    }

    private static func changeRequest(_ fields: YAMLFields) throws(ConfigError) -> ChangeRequestSettings {
        try fields.rejectUnknownKeys(["project", "labels", "confidential"])
        return ChangeRequestSettings(
            project: try fields.string("project"), labels: try fields.optionalStrings("labels") ?? [],
            confidential: try fields.optionalBool("confidential") ?? false)
    }

    private static func gateway(_ fields: YAMLFields, path: (String) -> String) throws(ConfigError) -> GatewaySettings {
        try fields.rejectUnknownKeys([
            "url", "urls", "agreeing_polls", "token_env", "token_file", "verify_timeout", "poll_interval", "next_deployment_timeout",
        ])
        let urls: [String]
        switch (fields.has("url"), fields.has("urls")) {
        case (true, false): urls = [try url(fields, "url")]
        case (false, true):
            urls = try fields.optionalStrings("urls") ?? []
            guard !urls.isEmpty else { throw fields.error("urls", "needs at least one URL") }
            for each in urls where !(each.hasPrefix("https://") || each.hasPrefix("http://")) {
                throw fields.error("urls", "'\(each)' must start with https:// or http://")
            }
            guard Set(urls).count == urls.count else { throw fields.error("urls", "a URL is listed twice") }
        default: throw fields.error(nil, "\(fields.path) needs exactly one of url or urls")
        }
        let agreeing = try fields.optionalInt("agreeing_polls") ?? 3
        guard (1...20).contains(agreeing) else { throw fields.error("agreeing_polls", "\(agreeing) is not between 1 and 20") }
        return GatewaySettings(
            urls: urls, token: try fields.credential(required: false, path: path),
            verifyTimeout: try fields.duration("verify_timeout", default: .seconds(900), max: .seconds(6 * 3600)),
            pollInterval: try fields.duration("poll_interval", default: .seconds(10), max: .seconds(300)), agreeingPolls: agreeing,
            nextDeploymentTimeout: try fields.duration(
                "next_deployment_timeout", default: .seconds(72 * 3600), max: .seconds(30 * 86_400)))
    }
}

/// An http(s) URL field; any other scheme (`gopher://`, a bare host) is named at load.
func url(_ fields: YAMLFields, _ key: String) throws(ConfigError) -> String {
    let value = try fields.string(key)
    guard value.hasPrefix("https://") || value.hasPrefix("http://") else {
        throw fields.error(key, "'\(value)' must start with https:// or http://")
    }
    return value
}

extension YAMLFields {
    /// A credential written `<name>_env` (an environment variable) or `<name>_file` (a file,
    /// relative to the config file's directory through `path`): exactly one of them, or neither
    /// when `required` is false (nil).
    func credential(_ name: String = "token", required: Bool = true, path: (String) -> String = { $0 }) throws(ConfigError) -> Credential? {
        switch (try optionalString(name + "_env"), try optionalString(name + "_file")) {
        case (let variable?, nil): return .environment(variable)
        case (nil, let file?): return .file(path(file))
        case (nil, nil) where !required: return nil
        default: throw error(nil, "\(self.path) needs exactly one of \(name)_env or \(name)_file")
        }
    }
}
