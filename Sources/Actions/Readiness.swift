import ControlAPI
import Foundation
import GitLabClient
import VaultClient

/// One of a target's readiness checks: would a failover started now go through? Read without a
/// write, every few minutes, so a credential that expired or lost a right is known before the
/// incident that needs it.
public struct ReadinessCheck: Sendable, Equatable {
    public enum Name: String, Sendable, CaseIterable {
        /// The Vault token is valid and may read and check-and-set write the secret and its metadata.
        case vault
        /// The GitLab token is active, has scope `api` and the role the runbook's steps need.
        case gitlab
        /// The latest pipeline is at the branch head and has exactly one matching, retryable deploy job.
        case deployJob = "deploy_job"
        /// The gateway's definitions endpoint answers (every URL of the fleet).
        case gateway
        /// A pager is configured, so proposals and outcomes reach a person (no test page is sent).
        case pagers
    }

    public var name: Name
    public var ready: Bool
    /// What was found: the problem when not ready.
    public var reason: String
    /// Unix time at which the credential the check uses expires; nil when it does not (or renews by logging in).
    public var expires: Double?

    public init(_ name: Name, ready: Bool, _ reason: String, expires: Double? = nil) {
        (self.name, self.ready, self.reason, self.expires) = (name, ready, reason, expires)
    }
}

/// The judgements of the checks, from what the systems answered (pure).
public enum Readiness {
    /// A Vault token may read and write the secret (`read` and `update` on its data path) and
    /// record what the agent owns (`read` and `update` or `patch` on its metadata path).
    public static func vault(
        ttl: Int, data: [String], metadata: [String], place: String, renewsByLogin: Bool, now: Double
    ) -> ReadinessCheck {
        func may(_ capabilities: [String], _ wanted: [String]) -> Bool {
            !capabilities.contains("deny") && (capabilities.contains("root") || capabilities.contains(where: wanted.contains))
        }
        var missing: [String] = []
        if !may(data, ["read"]) { missing.append("read \(place)") }
        if !may(data, ["update"]) { missing.append("update \(place) (the check-and-set write)") }
        if !may(metadata, ["read"]) || !may(metadata, ["update", "patch"]) {
            missing.append("read and update the metadata of \(place) (the ownership record)")
        }
        let expires = renewsByLogin || ttl <= 0 ? nil : now + Double(ttl)
        guard missing.isEmpty else {
            return ReadinessCheck(
                .vault, ready: false,
                "the Vault token may not \(missing.joined(separator: ", ")) (it has: data \(data), metadata \(metadata))",
                expires: expires)
        }
        let life = renewsByLogin ? "renewed by login" : ttl <= 0 ? "never expires" : "TTL \(ttl / 3600) h left"
        return ReadinessCheck(.vault, ready: true, "may read and write \(place); \(life)", expires: expires)
    }

    /// A GitLab token must be active with scope `api`: Developer retries the deploy job, Maintainer
    /// (with `expedited`) manages the CI/CD variable.
    public static func gitlab(token: GitLabToken, level: Int, expedited: Bool, project: String, now: Double) -> ReadinessCheck {
        let expires = token.expiresAt.flatMap(unixTime)
        let needed = expedited ? 40 : 30
        let role = expedited ? "Maintainer (the expedited variable)" : "Developer (retrying the deploy job)"
        let problem: String? =
            if !token.active || (expires.map { $0 <= now } ?? false) {
                "the GitLab token is revoked or expired\(token.expiresAt.map { " (expires_at \($0))" } ?? "")"
            } else if !token.scopes.contains("api") {
                "the GitLab token lacks scope api (it has: \(token.scopes.joined(separator: ", "))): retrying a job is a write"
            } else if level < needed {
                "the GitLab token's user has access level \(level) on \(project); it needs \(needed), \(role)"
            } else { nil }
        if let problem { return ReadinessCheck(.gitlab, ready: false, problem, expires: expires) }
        return ReadinessCheck(
            .gitlab, ready: true,
            "scope api, access level \(level) on \(project)\(token.expiresAt.map { ", expires \($0)" } ?? ", no expiry")",
            expires: expires)
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

extension TargetExecutor {
    /// Every readiness check of the target, now (`now`: Unix time). Reads only.
    public func readiness(now: Double) async -> [ReadinessCheck] {
        var checks: [ReadinessCheck] = []
        do {
            let place = "\(target.vault.mount)/\(target.vault.path)"
            let ttl = try await vault.tokenTTL()
            let (data, metadata) = try await vault.capabilities()
            checks.append(
                Readiness.vault(ttl: ttl, data: data, metadata: metadata, place: place, renewsByLogin: vault.session != nil, now: now))
        } catch { checks.append(ReadinessCheck(.vault, ready: false, "\(error)")) }
        do {
            let gitlab = redeployer.gitlab
            let token = try await gitlab.tokenSelf()
            let level = try await gitlab.accessLevel(of: token.userID)
            checks.append(
                Readiness.gitlab(
                    token: token, level: level, expedited: target.gitlab.expedited, project: target.gitlab.project, now: now))
        } catch { checks.append(ReadinessCheck(.gitlab, ready: false, "\(error)")) }
        do {
            let (pipeline, job) = try await redeployer.preflight()
            checks.append(ReadinessCheck(.deployJob, ready: true, "would retry job #\(job.id) of pipeline #\(pipeline.id)"))
        } catch { checks.append(ReadinessCheck(.deployJob, ready: false, "\(error)")) }
        if let gateway {
            var problems: [String] = []
            for (index, url) in gateway.settings.urls.enumerated() {
                do { _ = try await gateway.defaults(at: index) } catch { problems.append("\(url): \(error)") }
            }
            checks.append(
                ReadinessCheck(
                    .gateway, ready: problems.isEmpty,
                    problems.isEmpty ? "\(gateway.settings.urls.count) URL(s) answer" : problems.joined(separator: "; ")))
        }
        return checks
    }
}
