import Actions
import ControlSimulators
import Foundation
import GitLabClient
import Testing

/// Ready to act, checked before the incident: each check's judgement, and the checks against the
/// simulated Vault, GitLab and gateway, which they read and never write.
@Suite struct ReadinessTests {
    static let now = 1_764_720_000.0  // 2025-12-03T00:00:00Z

    @Test func aVaultTokenMustReadAndWriteTheSecretAndItsMetadata() {
        let ok = Readiness.vault(
            ttl: 86_400, data: ["read", "update"], metadata: ["read", "patch"], place: "runway/x", renewsByLogin: false, now: Self.now)
        #expect(ok.ready && ok.expires == Self.now + 86_400)
        let readOnly = Readiness.vault(
            ttl: 86_400, data: ["read"], metadata: ["read"], place: "runway/x", renewsByLogin: false, now: Self.now)
        #expect(!readOnly.ready)
        #expect(readOnly.reason.contains("may not update runway/x (the check-and-set write), read and update the metadata of runway/x"))
        #expect(!Readiness.vault(ttl: 0, data: ["deny"], metadata: ["root"], place: "p", renewsByLogin: false, now: Self.now).ready)
        let root = Readiness.vault(ttl: 0, data: ["root"], metadata: ["root"], place: "p", renewsByLogin: false, now: Self.now)
        #expect(root.ready && root.expires == nil, "a token that never expires has no expiry to alert on")
        let login = Readiness.vault(
            ttl: 3600, data: ["read", "update"], metadata: ["read", "update"], place: "p", renewsByLogin: true, now: 0)
        #expect(login.ready && login.expires == nil && login.reason.contains("renewed by login"))
    }

    @Test func aGitLabTokenNeedsScopeApiAndTheRoleOfEachStep() {
        func check(_ token: GitLabToken, level: Int = 40, expedited: Bool = true) -> ReadinessCheck {
            Readiness.gitlab(token: token, level: level, expedited: expedited, project: "gitlab-com/ai-gateway", now: Self.now)
        }
        let token = GitLabToken(active: true, scopes: ["api"], expiresAt: "2025-12-06", userID: 1)
        let expiring = check(token)
        #expect(expiring.ready && expiring.expires == Self.now + 3 * 86_400, "ready, and its expiry exported for the 7-day alert")
        let developer = check(token, level: 30)
        #expect(!developer.ready && developer.reason.contains("access level 30 on gitlab-com/ai-gateway; it needs 40, Maintainer"))
        #expect(check(token, level: 30, expedited: false).ready, "Developer retries the job when nothing is expedited")
        #expect(!check(GitLabToken(active: true, scopes: ["read_api"], expiresAt: nil, userID: 1)).ready)
        #expect(check(GitLabToken(active: false, scopes: ["api"], expiresAt: nil, userID: 1)).reason.contains("revoked or expired"))
        #expect(!check(GitLabToken(active: true, scopes: ["api"], expiresAt: "2025-12-03", userID: 1)).ready, "expired today")
    }

    @Test func theChecksReadTheSimulatedSystemsAndWriteNothing() async throws {
        let loop = try await ClosedLoop.start()
        var checks = await loop.executor.readiness(now: Self.now)
        #expect(checks.map(\.name) == [.vault, .gitlab, .deployJob, .gateway])
        #expect(checks.filter { !$0.ready }.isEmpty, "\(checks.filter { !$0.ready })")
        #expect(checks.first?.expires == Self.now + 32 * 86_400, "token auth's default TTL")
        loop.gitlab.setToken(.init(expiresAt: "2025-12-06", accessLevel: 30))
        loop.vault.setCapabilities("runway/data/\(ClosedLoop.path)", ["read"])
        checks = await loop.executor.readiness(now: Self.now)
        let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
        #expect(byName[.vault]?.ready == false && byName[.vault]?.reason.contains("may not update") == true)
        #expect(byName[.gitlab]?.ready == false && byName[.gitlab]?.expires == Self.now + 3 * 86_400)
        #expect(byName[.deployJob]?.ready == true && byName[.gateway]?.ready == true)
        loop.vault.failNext(2, status: 403)  // a revoked token: lookup-self and capabilities-self refused
        let revoked = await loop.executor.readiness(now: Self.now)[0]
        #expect(!revoked.ready && revoked.reason.contains("forbidden: the Vault token may not"), "\(revoked.reason)")
        loop.gitlab.setToken(.init(accessLevel: 0))
        #expect(await loop.executor.readiness(now: Self.now)[1].reason.contains("access level 0"), "not a member")
        #expect(loop.vault.current(ClosedLoop.path)?.version == 1, "nothing written")
        #expect(loop.gitlab.retries.isEmpty && loop.gitlab.variables.isEmpty)
        await loop.stop()
    }
}
