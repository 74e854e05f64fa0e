import Actions
import ControlSimulators
import Foundation
import GitLabClient
import Testing

/// Ready to act, checked before the incident: each check's judgement, and the checks against the
/// simulated Vault, GitLab and gateway, which they read and never write.
@Suite struct ReadinessTests {
    static let now = 1_764_720_000.0  // 2025-12-03T00:00:00Z

    @Test func aVaultTokenMustReadAndWriteTheSecretAndPatchItsMetadata() {
        func check(_ data: [String], _ metadata: [String], ttl: Int = 86_400, exists: Bool = true, login: Bool = false) -> ReadinessCheck {
            Readiness.vault(
                ttl: ttl, data: data, metadata: metadata, mount: "runway", path: "x", exists: exists, renewsByLogin: login, now: Self.now)
        }
        let ok = check(["read", "update"], ["read", "patch"])
        #expect(ok.ready && ok.expires == Self.now + 86_400 && ok.reason.contains("patches its metadata"))
        let readOnly = check(["read"], ["read"])
        #expect(!readOnly.ready)
        #expect(readOnly.reason.contains("lacks update on runway/data/x"), "\(readOnly.reason)")
        #expect(readOnly.reason.contains("patch on runway/metadata/x (the ownership record)"), "\(readOnly.reason)")
        #expect(readOnly.reason.contains(#"path "runway/metadata/x" { capabilities = ["read", "patch"] }"#), "what to grant")
        let updateOnly = check(["read", "update"], ["read", "update"])
        #expect(updateOnly.ready && updateOnly.reason.contains("update only (no patch)"), "the guarded whole-map write")
        #expect(!check(["read", "update"], ["read", "update"], exists: false).ready, "a new secret needs create")
        #expect(check(["read", "create"], ["read", "patch"], exists: false).ready)
        #expect(!check(["deny"], ["root"], ttl: 0).ready)
        let root = check(["root"], ["root"], ttl: 0)
        #expect(root.ready && root.expires == nil, "a token that never expires has no expiry to alert on")
        let login = check(["read", "update"], ["read", "update"], ttl: 3600, login: true)
        #expect(login.ready && login.expires == nil && login.reason.contains("renewed by login"))
    }

    @Test func aGitLabTokenNeedsScopeApiAndTheRoleOfEachStep() {
        func check(
            _ token: GitLabToken, level: Int = 40, expedited: Bool = true, environment: String? = nil, least: Int? = nil
        ) -> ReadinessCheck {
            Readiness.gitlab(
                .init(
                    token: token, level: level, expedited: expedited, project: "gitlab-com/ai-gateway", environment: environment,
                    environmentLeast: least), now: Self.now)
        }
        let token = GitLabToken(active: true, scopes: ["api"], expiresAt: "2025-12-06", userID: 1)
        let expiring = check(token)
        #expect(expiring.ready && expiring.expires == Self.now + 3 * 86_400, "ready, and its expiry exported for the 7-day alert")
        let developer = check(token, level: 30)
        #expect(!developer.ready && developer.reason.contains("access level 30 (Developer) on gitlab-com/ai-gateway; it needs 40"))
        #expect(check(token, level: 30, expedited: false).ready, "Developer retries the job when nothing is expedited")
        let readAPI = check(GitLabToken(active: true, scopes: ["read_api"], expiresAt: nil, userID: 1))
        #expect(!readAPI.ready && readAPI.reason.contains("lacks scope api"))
        #expect(check(GitLabToken(active: false, scopes: ["api"], expiresAt: nil, userID: 1)).reason.contains("revoked or expired"))
        #expect(!check(GitLabToken(active: true, scopes: ["api"], expiresAt: "2025-12-03", userID: 1)).ready, "expired today")
        let protected = check(token, environment: "production", least: 50)
        #expect(!protected.ready && protected.reason.contains("protected environment production"))
        #expect(check(token, environment: "production", least: 40).ready)
    }

    @Test func theDownstreamProjectNeedsAMemberWhoMayRunItsPipelines() {
        func check(_ level: Int, least: Int? = nil, bot: Bool = false, project: String? = "4242") -> ReadinessCheck {
            Readiness.downstream(project: project, branch: "main", level: level, branchLeast: least, bot: bot, user: "svc")
        }
        #expect(check(30).ready)
        let outsider = check(0)
        #expect(!outsider.ready && outsider.reason.contains("not a member of the downstream project 4242"))
        #expect(outsider.reason.contains("downstream_bridge_project_not_found"))
        let bot = check(0, bot: true)
        #expect(!bot.ready && bot.reason.contains("project or group access token") && bot.reason.contains("service account"))
        #expect(!check(0, bot: true, project: nil).ready, "a bot can never deploy across projects, even before a first run")
        #expect(check(0, project: nil).ready, "unknown until the job has run once: not held against a person's token")
        #expect(!check(20).ready && check(20).reason.contains("insufficient_bridge_permissions"))
        let branch = check(30, least: 40)
        #expect(!branch.ready && branch.reason.contains("branch main of the downstream project 4242 is protected"))
        #expect(check(40, least: 40).ready)
    }

    @Test func changeRequestsNeedAReporter() {
        #expect(Readiness.changeRequest(project: "gl-infra/production", level: 20, user: "svc").ready)
        let guest = Readiness.changeRequest(project: "gl-infra/production", level: 10, user: "svc")
        #expect(!guest.ready && guest.reason.contains("Guest on the change-request project gl-infra/production"))
    }

    @Test func theChecksReadTheSimulatedSystemsAndWriteNothing() async throws {
        let loop = try await ClosedLoop.start()
        var checks = await loop.executor.readiness(now: Self.now)
        #expect(checks.map(\.name) == [.vault, .gitlab, .downstream, .changeRequest, .deployJob, .gateway])
        #expect(checks.filter { !$0.ready }.isEmpty, "\(checks.filter { !$0.ready })")
        #expect(checks.first?.expires == Self.now + 32 * 86_400, "token auth's default TTL")
        loop.gitlab.setAccess(.init(expiresAt: "2025-12-06", accessLevel: 30))
        loop.vault.setCapabilities("runway/data/\(ClosedLoop.path)", ["read"])
        checks = await loop.executor.readiness(now: Self.now)
        let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
        #expect(byName[.vault]?.ready == false && byName[.vault]?.reason.contains("lacks update") == true)
        #expect(byName[.gitlab]?.ready == false && byName[.gitlab]?.expires == Self.now + 3 * 86_400)
        #expect(byName[.deployJob]?.ready == true && byName[.gateway]?.ready == true)
        loop.vault.failNext(2, status: 403)  // a revoked token: lookup-self and capabilities-self refused
        let revoked = await loop.executor.readiness(now: Self.now)[0]
        #expect(!revoked.ready && revoked.reason.contains("forbidden: the Vault token may not"), "\(revoked.reason)")
        loop.gitlab.setAccess(.init(accessLevel: 0))
        #expect(await loop.executor.readiness(now: Self.now)[1].reason.contains("access level 0 (not a member)"), "not a member")
        #expect(loop.vault.current(ClosedLoop.path)?.version == 1, "nothing written")
        #expect(loop.gitlab.retries.isEmpty && loop.gitlab.variables.isEmpty)
        await loop.stop()
    }
}
