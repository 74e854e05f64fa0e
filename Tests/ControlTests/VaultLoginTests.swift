import ControlAPI
import ControlSimulators
import Foundation
import HTTP
import Testing
import Timekeeping
import VaultClient

/// The token's life: Kubernetes/JWT login, renewal at two thirds of the TTL, a new login when the
/// max TTL nears or a renewal is refused, the identity token read again at each login; a static
/// token file read again when it changes.
@Suite struct VaultLoginTests {
    @Test func aLeaseIsUsedThenRenewedThenReplaced() {
        var lease = VaultLease(token: "t", ttl: .seconds(60), renewable: true, at: .seconds(100))
        #expect(lease.next(at: .seconds(139)) == .use)
        #expect(lease.next(at: .seconds(140)) == .renew, "two thirds of the TTL")
        #expect(lease.next(at: .seconds(160)) == .login, "expired: renewing would be refused")
        lease.renewed(ttl: .seconds(60), at: .seconds(145))
        #expect(lease.next(at: .seconds(160)) == .use && lease.expires == .seconds(205))
        lease.renewed(ttl: .seconds(20), at: .seconds(190))
        #expect(lease.next(at: .seconds(204)) == .login, "a renewal capped by the max TTL: log in again rather than renew")
        let fixed = VaultLease(token: "t", ttl: .seconds(60), renewable: false, at: .zero)
        #expect(fixed.next(at: .seconds(45)) == .login, "a token that cannot be renewed is replaced")
    }

    struct Setup {
        let vault: VaultSimulator
        let client: HTTPClient
        let clock: VirtualClock
        let jwtFile: String
        let kv: VaultKV

        static func start(role: String = "failover-agent", jwt: String = "eyJ.sa-token.1") async throws -> Setup {
            let vault = try await VaultSimulator.start()
            vault.put("env/production/ai-gateway", ["value": .string("{}")])
            let clock = VirtualClock()
            vault.enableLogin(.init(role: "failover-agent", jwt: "eyJ.sa-token.1", ttl: .seconds(60), maxTTL: .seconds(300), clock: clock))
            let jwtFile = FileManager.default.temporaryDirectory.appendingPathComponent("sa-token-\(UUID())").path
            try jwt.write(toFile: jwtFile, atomically: true, encoding: .utf8)
            let settings = VaultSettings(
                address: vault.address, path: "env/production/ai-gateway",
                auth: .login(VaultLogin(method: .kubernetes, role: role, jwtFile: jwtFile)))
            let client = HTTPClient()
            let kv = try VaultKV(settings: settings, client: client, environment: [:], retries: 0, clock: clock)
            return Setup(vault: vault, client: client, clock: clock, jwtFile: jwtFile, kv: kv)
        }

        func stop() async {
            client.shutdown()
            await vault.stop()
            try? FileManager.default.removeItem(atPath: jwtFile)
        }
    }

    @Test func tenMinutesOfSixtySecondTokensRenewAndLogInAgainWithNoRefusedRead() async throws {
        let setup = try await Setup.start()
        for _ in 0..<60 {
            let secret = try await setup.kv.read()
            #expect(secret.version == 1)
            setup.clock.advance(by: .seconds(10))
        }
        // A 60 s token renewed every 40 s, until the 300 s max TTL caps it: a new login then.
        #expect(setup.vault.logins == 2 || setup.vault.logins == 3, "\(setup.vault.logins) logins")
        #expect(setup.vault.renewals >= 8, "\(setup.vault.renewals) renewals")
        let session = try #require(setup.kv.session)
        let (logins, renewals) = (await session.logins, await session.renewals)
        #expect(logins == setup.vault.logins && renewals == setup.vault.renewals)
        await setup.stop()
    }

    @Test func aRefusedRenewalIsFollowedByANewLogin() async throws {
        let setup = try await Setup.start()
        _ = try await setup.kv.read()
        setup.vault.refuseRenewals(1)
        setup.clock.advance(by: .seconds(45))
        _ = try await setup.kv.read()
        #expect(setup.vault.logins == 2 && setup.vault.renewals == 0, "renewal refused, logged in again, the read went through")
        await setup.stop()
    }

    @Test func aRotatedIdentityTokenIsReadAtTheNextLogin() async throws {
        let setup = try await Setup.start()
        _ = try await setup.kv.read()
        try "eyJ.sa-token.2".write(toFile: setup.jwtFile, atomically: true, encoding: .utf8)
        setup.vault.enableLogin(
            .init(role: "failover-agent", jwt: "eyJ.sa-token.2", ttl: .seconds(60), maxTTL: .seconds(300), clock: setup.clock))
        setup.clock.advance(by: .seconds(61))
        _ = try await setup.kv.read()
        #expect(setup.vault.logins == 2)
        await setup.stop()
    }

    @Test func aWrongRoleOrAMissingIdentityTokenIsAClearReasonNotAWrite() async throws {
        let wrongRole = try await Setup.start(role: "someone-else")
        let refused = await #expect(throws: ControlError.self) { _ = try await wrongRole.kv.write(["value": .string("x")], cas: 1) }
        #expect("\(refused!)".contains("Vault login (kubernetes auth at auth/kubernetes, role someone-else) refused: HTTP 403"))
        #expect(wrongRole.vault.current("env/production/ai-gateway")?.version == 1, "nothing written")
        await wrongRole.stop()
        let missing = try await Setup.start()
        try FileManager.default.removeItem(atPath: missing.jwtFile)
        let unreadable = await #expect(throws: ControlError.self) { _ = try await missing.kv.read() }
        #expect("\(unreadable!)".contains("cannot read token file \(missing.jwtFile)"))
        await missing.stop()
    }

    @Test func aStaticTokenFileIsReadAgainWhenItChanges() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vault-token-\(UUID())").path
        try "hvs.first\n".write(toFile: file, atomically: true, encoding: .utf8)
        let source = try CredentialSource(.file(file), environment: [:])
        #expect(try source.current() == "hvs.first")
        try "hvs.second-token\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try source.current() == "hvs.second-token", "a Vault Agent sink rewrote it")
        try "".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ControlError.credential("token file \(file) is empty")) { try source.current() }
        try FileManager.default.removeItem(atPath: file)
        #expect(throws: ControlError.credential("cannot read token file \(file)")) { try source.current() }
    }
}
