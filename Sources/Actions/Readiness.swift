import ControlAPI
import Foundation
import GitLabClient
import Lifecycle
import VaultClient

/// One of a target's readiness checks: would a failover started now go through? Each proves a
/// request the actions make, with the permission the real service checks for it, and says what
/// to grant when it fails. Read without a write, every few minutes, and before every action.
public struct ReadinessCheck: Sendable, Equatable {
    public enum Name: String, Sendable, CaseIterable {
        /// The Vault token is valid and may read and check-and-set write the secret, and read and
        /// patch (or update) its metadata.
        case vault
        /// The GitLab token is active, has scope `api`, and its user is Developer on the deploy
        /// project (Maintainer with the expedited variable) and may deploy to its environment.
        case gitlab
        /// The token's user may create the deploy pipeline the retried trigger job starts in the
        /// downstream (Runway deployments) project: member, Developer, allowed on its branch.
        case downstream
        /// The token's user may open issues in the change-request project (Reporter).
        case changeRequest = "change_request"
        /// The latest pipeline is at the branch head and has exactly one matching, retryable deploy job.
        case deployJob = "deploy_job"
        /// The gateway's definitions endpoint answers (every URL of the fleet).
        case gateway
        /// A pager is configured, so proposals and outcomes reach a person (no test page is sent).
        case pagers
    }

    public var name: Name
    public var ready: Bool
    /// What was found: the problem, and what to grant, when not ready.
    public var reason: String
    /// Unix time at which the credential the check uses expires; nil when it does not (or renews by logging in).
    public var expires: Double?

    public init(_ name: Name, ready: Bool, _ reason: String, expires: Double? = nil) {
        (self.name, self.ready, self.reason, self.expires) = (name, ready, reason, expires)
    }
}

/// The judgements of the checks, from what the systems answered (pure).
public enum Readiness {
    static let roles = [10: "Guest", 20: "Reporter", 30: "Developer", 40: "Maintainer", 50: "Owner", 60: "no role"]
    static func role(_ level: Int) -> String { roles[level] ?? (level <= 0 ? "not a member" : "level \(level)") }

    /// A Vault token must `read` the secret and `update` it (`create` when it does not exist yet):
    /// the check-and-set write; and `read` its metadata and `patch` it (the ownership record's
    /// merge patch) — with only `update` there the agent writes the whole map, guarded by a read.
    public static func vault(
        ttl: Int, data: [String], metadata: [String], mount: String, path: String, exists: Bool = true, renewsByLogin: Bool, now: Double
    ) -> ReadinessCheck {
        func may(_ capabilities: [String], _ wanted: String) -> Bool {
            !capabilities.contains("deny") && (capabilities.contains("root") || capabilities.contains(wanted))
        }
        let place = "\(mount)/\(path)"
        let write = exists ? "update" : "create"
        var dataNeeds: [String] = []
        if !may(data, "read") { dataNeeds.append("read") }
        if !may(data, write) { dataNeeds.append(write) }
        var metadataNeeds: [String] = []
        if !may(metadata, "read") { metadataNeeds.append("read") }
        let patches = may(metadata, "patch")
        if !patches, !may(metadata, "update") { metadataNeeds.append("patch") }
        let expires = renewsByLogin || ttl <= 0 ? nil : now + Double(ttl)
        guard dataNeeds.isEmpty, metadataNeeds.isEmpty else {
            var grants: [String] = []
            if !dataNeeds.isEmpty {
                grants.append(
                    "\(dataNeeds.joined(separator: ", ")) on \(mount)/data/\(path) (reading the secret, the check-and-set write)")
            }
            if !metadataNeeds.isEmpty {
                grants.append("\(metadataNeeds.joined(separator: ", ")) on \(mount)/metadata/\(path) (the ownership record)")
            }
            return ReadinessCheck(
                .vault, ready: false,
                "the Vault token lacks " + grants.joined(separator: "; ") + " (it has: data \(data), metadata \(metadata)); grant "
                    + #"path "\#(mount)/data/\#(path)" { capabilities = ["read", "create", "update"] } and "#
                    + #"path "\#(mount)/metadata/\#(path)" { capabilities = ["read", "patch"] }"#,
                expires: expires)
        }
        let life = renewsByLogin ? "renewed by login" : ttl <= 0 ? "never expires" : "TTL \(ttl / 3600) h left"
        let record =
            patches
            ? "patches its metadata" : "its metadata with update only (no patch): the ownership record is written whole, guarded by a read"
        return ReadinessCheck(.vault, ready: true, "may read and write \(place); \(record); \(life)", expires: expires)
    }

    /// What the deploy project's readiness rests on.
    public struct GitLabFacts: Sendable {
        public var token: GitLabToken
        public var bot: Bool
        public var level: Int
        public var expedited: Bool
        public var project: String
        /// The deploy environment (`gitlab.environment`) and the least role allowed to deploy there; nil: not protected.
        public var environment: String?
        public var environmentLeast: Int?

        public init(
            token: GitLabToken, bot: Bool = false, level: Int, expedited: Bool, project: String, environment: String? = nil,
            environmentLeast: Int? = nil
        ) {
            (self.token, self.bot, self.level, self.expedited, self.project) = (token, bot, level, expedited, project)
            (self.environment, self.environmentLeast) = (environment, environmentLeast)
        }
    }

    /// A GitLab token must be active with scope `api` (a job retry, an issue, a variable are
    /// writes); its user Developer on the deploy project to retry the trigger job, Maintainer to
    /// manage the expedited CI variable, and allowed to deploy to a protected environment.
    public static func gitlab(_ facts: GitLabFacts, now: Double) -> ReadinessCheck {
        let token = facts.token
        let expires = token.expiresAt.flatMap(unixTime)
        let needed = facts.expedited ? 40 : 30
        let what = facts.expedited ? "Maintainer (the expedited CI variable)" : "Developer (retrying the deploy job)"
        let problem: String? =
            if !token.active || (expires.map { $0 <= now } ?? false) {
                "the GitLab token is revoked or expired\(token.expiresAt.map { " (expires_at \($0))" } ?? ""): issue a new one"
            } else if !token.scopes.contains("api") {
                "the GitLab token lacks scope api (it has: \(token.scopes.joined(separator: ", "))): retrying a job, opening an issue "
                    + "and setting a variable are writes; issue a token with scope api"
            } else if facts.level < needed {
                "the GitLab token's user has access level \(facts.level) (\(role(facts.level))) on \(facts.project); it needs "
                    + "\(needed), \(what): grant it that role"
            } else if let environment = facts.environment, let least = facts.environmentLeast, facts.level < least {
                "the protected environment \(environment) of \(facts.project) lets \(role(least)) and above deploy; the token's user "
                    + "is \(role(facts.level)): add it to the environment's deployers"
            } else { nil }
        if let problem { return ReadinessCheck(.gitlab, ready: false, problem, expires: expires) }
        return ReadinessCheck(
            .gitlab, ready: true,
            "scope api, \(role(facts.level)) on \(facts.project)\(token.expiresAt.map { ", expires \($0)" } ?? ", no expiry")",
            expires: expires)
    }

    /// The retried trigger job's downstream pipeline is created as the token's user in the
    /// Runway deployments project: it must be a member (else `downstream_bridge_project_not_found`),
    /// Developer, and allowed to merge into the pipeline's branch (else
    /// `insufficient_bridge_permissions`). A project or group access token's bot user can never
    /// be a member of another project. `project` nil: no run of the trigger job shows it yet.
    public static func downstream(
        project: String?, branch: String?, level: Int, branchLeast: Int?, bot: Bool, user: String
    ) -> ReadinessCheck {
        guard let project else {
            return ReadinessCheck(
                .downstream, ready: !bot,
                bot
                    ? "the GitLab token is a project or group access token (user \(user) is a bot): its user can never be a member of "
                        + "the Runway deployments project the retried trigger job deploys in; use a service account's or a person's token"
                    : "no run of the deploy job shows its downstream project yet: the downstream rights cannot be read until one has run")
        }
        let problem: String? =
            if level <= 0 {
                bot
                    ? "the GitLab token is a project or group access token (user \(user) is a bot): it can never be a member of the "
                        + "downstream project \(project), where the retried trigger job creates the deploy pipeline as that user "
                        + "(downstream_bridge_project_not_found); use a service account's or a person's token that is a member of both"
                    : "the token's user \(user) is not a member of the downstream project \(project), where the retried trigger job "
                        + "creates the deploy pipeline as that user (downstream_bridge_project_not_found): make it a Developer there"
            } else if level < 30 {
                "the token's user \(user) is \(role(level)) on the downstream project \(project); creating the deploy pipeline needs "
                    + "Developer (insufficient_bridge_permissions): grant Developer"
            } else if let branchLeast, level < branchLeast {
                "the branch \(branch ?? "?") of the downstream project \(project) is protected: \(role(branchLeast)) and above may "
                    + "merge, the token's user is \(role(level)) (insufficient_bridge_permissions): allow it to merge into "
                    + "\(branch ?? "the branch")"
            } else { nil }
        if let problem { return ReadinessCheck(.downstream, ready: false, problem) }
        return ReadinessCheck(
            .downstream, ready: true,
            "\(role(level)) on the downstream project \(project)\(branch.map { ", may run pipelines on \($0)" } ?? "")")
    }

    /// Opening, noting and closing change requests needs Reporter on their project.
    public static func changeRequest(project: String, level: Int, user: String) -> ReadinessCheck {
        guard level >= 20 else {
            return ReadinessCheck(
                .changeRequest, ready: false,
                "the token's user \(user) is \(role(level)) on the change-request project \(project); opening an issue there needs "
                    + "Reporter: grant Reporter")
        }
        return ReadinessCheck(.changeRequest, ready: true, "\(role(level)) on \(project): may open, note and close change requests")
    }

    /// The checks an action needs before its first write: a failover writes the secret,
    /// redeploys and (with a gateway) verifies; a restore writes the secret, redeploys only with
    /// `restore_redeploy`, and needs GitLab for the expedited variable and the change request.
    public static func needed(_ kind: ActionKind, _ target: Target) -> Set<ReadinessCheck.Name> {
        var names: Set<ReadinessCheck.Name> = [.vault]
        let redeploys = kind == .failover || target.restoreRedeploy
        if redeploys || target.gitlab.expedited || target.changeRequest != nil { names.insert(.gitlab) }
        if redeploys { names.insert(.downstream) }
        if redeploys, target.gateway != nil { names.insert(.gateway) }
        if target.changeRequest != nil { names.insert(.changeRequest) }
        return names
    }

    /// `YYYY-MM-DD` as GitLab writes `expires_at`: the token stops working at the start of that day, UTC.
    static func unixTime(_ date: String) -> Double? {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))?.timeIntervalSince1970
    }
}
