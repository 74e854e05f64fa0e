import AWSSigning
import Foundation
import HTTP
import HTTPServer
import ProbeResults
import Probing
import ProviderSimulators
import Synchronization
import Testing
import Timekeeping

/// Provider-specific auth reaches the wire, and failures to get credentials are class `auth`.
/// A clock the test moves by hand.
final class VirtualTime: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Duration = .zero
    var now: Duration { lock.withLock { value } }
    func advance(_ by: Duration) { lock.withLock { value += by } }
}

@Suite struct AuthTests {
    func probeOnce(_ auth: ProbeAuth, flavor: ProviderFlavor = .vertex) async throws -> (ProbeResult, [ServerRequest]) {
        let simulator = try await ProviderSimulator.start(flavor)
        let client = HTTPClient()
        let spec = ProbeSpec(
            provider: flavor.rawValue, name: "p", method: "POST", url: simulator.baseURL + "/model/m/converse", body: "{}",
            timeout: .seconds(5), auth: auth)
        let result = await Prober(client: client, clock: WallClock()).probe(spec)
        client.shutdown()
        let requests = simulator.requests
        await simulator.stop()
        return (result, requests)
    }

    @Test func googleTokenFromAFileIsSentAsBearer() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        try "ya29.file-token\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (result, requests) = try await probeOnce(.googleToken(GoogleTokenSource(origin: .file(file))))
        #expect(result.resultClass == .ok)
        #expect(requests.first?.header("authorization") == "Bearer ya29.file-token")
    }

    @Test func googleTokenFromACommand() async throws {
        let (result, requests) = try await probeOnce(.googleToken(GoogleTokenSource(origin: .command("echo ya29.command-token"))))
        #expect(result.resultClass == .ok)
        #expect(requests.first?.header("authorization") == "Bearer ya29.command-token")
    }

    @Test func aTokenThatCannotBeHadIsClassAuthAndSendsNothing() async throws {
        let (failed, sent) = try await probeOnce(.googleToken(GoogleTokenSource(origin: .command("exit 3"))))
        #expect(failed.resultClass == .auth)
        #expect(failed.detail == "google token command exited with status 3")
        #expect(sent.isEmpty)
        let (missing, _) = try await probeOnce(.googleToken(GoogleTokenSource(origin: .file("/nonexistent/token"))))
        #expect(missing.resultClass == .auth)
    }

    /// A virtual clock: a token is reused until its lifetime, counted from when it was fetched, ends.
    @Test func tokensAreReusedForTheirLifetime() async throws {
        let counter = FileManager.default.temporaryDirectory.appendingPathComponent("count-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: counter) }
        let clock = VirtualTime()
        let tokens = GoogleTokens(now: { clock.now })
        let source = GoogleTokenSource(origin: .command("echo x >> \(counter); echo tok-$(wc -l < \(counter))"), lifetime: .seconds(60))
        for _ in 0..<3 { #expect(try await tokens.token(for: source) == "tok-1") }
        clock.advance(.seconds(59))
        #expect(try await tokens.token(for: source) == "tok-1")
        clock.advance(.seconds(1))
        #expect(try await tokens.token(for: source) == "tok-2")
        #expect(try String(contentsOfFile: counter, encoding: .utf8) == "x\nx\n")
    }

    /// GKE's metadata server: the token is asked for with `Metadata-Flavor: Google` and reused
    /// until a minute before its `expires_in`, when that comes before the lifetime.
    @Test func aMetadataServerTokenIsUsedUntilAMinuteBeforeItExpires() async throws {
        let served = Mutex(0)
        let server = try await HTTPServer.start { request in
            guard request.header("metadata-flavor") == "Google",
                request.uri == "/computeMetadata/v1/instance/service-accounts/default/token"
            else { return .json(403, #"{"error":"missing Metadata-Flavor"}"#) }
            let count = served.withLock {
                $0 += 1
                return $0
            }
            return .json(200, #"{"access_token":"ya29.metadata-\#(count)","expires_in":120,"token_type":"Bearer"}"#)
        }
        let client = HTTPClient()
        let clock = VirtualTime()
        let tokens = GoogleTokens(now: { clock.now })
        let source = GoogleTokenSource(origin: .metadata(server.baseURL), lifetime: .seconds(300))
        #expect(try await tokens.token(for: source, client: client) == "ya29.metadata-1")
        clock.advance(.seconds(59))
        #expect(try await tokens.token(for: source, client: client) == "ya29.metadata-1")
        clock.advance(.seconds(1))
        #expect(try await tokens.token(for: source, client: client) == "ya29.metadata-2", "120 s minus a minute, not 300 s")
        await server.stop()
        let down = await #expect(throws: GoogleTokens.Failure.self) {
            clock.advance(.seconds(60))
            _ = try await tokens.token(for: source, client: client)
        }
        #expect(down?.description.hasPrefix("metadata server \(server.baseURL):") == true)
        client.shutdown()
    }

    /// A command that outlives its limit is killed with every child of its shell, and the caller
    /// goes on (the limit is short here; 30 s in production). Its child would sleep for two minutes.
    @Test func aSlowCommandIsKilledWithItsChildren() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let tokens = GoogleTokens(commandLimit: .milliseconds(500))
        let source = GoogleTokenSource(origin: .command("sleep 120 & echo $! > \(pidFile); wait; echo tok"))
        let start = ContinuousClock.now
        await #expect(throws: GoogleTokens.Failure.self) { try await tokens.token(for: source) }
        #expect(ContinuousClock.now - start < .seconds(100))
        let child = try #require(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<100 where alive {
            alive = kill(child, 0) == 0
            if alive { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(!alive, "the shell's child \(child) outlived the kill")
    }

    /// EKS IRSA: STS `AssumeRoleWithWebIdentity` with the token file's content; the temporary
    /// credentials sign the probe, are reused until five minutes before they expire, and a
    /// refusal is the probe's `auth` class, naming the role.
    @Test func webIdentityCredentialsSignTheProbeAndAreAssumedAgainBeforeTheyExpire() async throws {
        let assumed = Mutex(0)
        let sts = try await HTTPServer.start { request in
            let form = String(decoding: request.body, as: UTF8.self)
            guard form.contains("Action=AssumeRoleWithWebIdentity"), form.contains("WebIdentityToken=eyJ.irsa-token"),
                form.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fprobes")
            else {
                return .respond(status: 403, body: Array("<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>".utf8))
            }
            let count = assumed.withLock {
                $0 += 1
                return $0
            }
            return .respond(
                status: 200,
                body: Array(
                    """
                    <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>
                    <AccessKeyId>ASIAPROBE\(count)</AccessKeyId><SecretAccessKey>secret-\(count)</SecretAccessKey>
                    <SessionToken>session-\(count)</SessionToken><Expiration>2026-12-04T01:00:00Z</Expiration>
                    </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
                    """.utf8))
        }
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("irsa-\(UUID())").path
        try "eyJ.irsa-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let identity = AWSWebIdentity(
            roleARN: "arn:aws:iam::123456789012:role/probes", tokenFile: tokenFile, stsURL: sts.baseURL)
        let wall = Mutex(1_796_343_600.0)  // 2026-12-04T00:20:00Z: 40 minutes before they expire
        let cache = AWSCredentialCache(wallNow: { wall.withLock { $0 } })
        let client = HTTPClient()
        #expect(try await cache.credentials(for: .webIdentity(identity), client: client).accessKeyID == "ASIAPROBE1")
        wall.withLock { $0 += 34 * 60 }
        #expect(try await cache.credentials(for: .webIdentity(identity), client: client).accessKeyID == "ASIAPROBE1", "6 minutes left")
        wall.withLock { $0 += 60 }
        let renewed = try await cache.credentials(for: .webIdentity(identity), client: client)
        #expect(renewed.accessKeyID == "ASIAPROBE2" && renewed.sessionToken == "session-2", "5 minutes left: assumed again")

        let (result, requests) = try await probeOnce(
            .awsTemporary(region: "us-west-2", service: "bedrock", .webIdentity(identity)), flavor: .bedrock)
        #expect(result.resultClass == .ok)
        let request = try #require(requests.first)
        #expect(request.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=ASIAPROBE3/") == true)
        #expect(request.header("x-amz-security-token") == "session-3")

        try "eyJ.someone-else".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let (refused, _) = try await probeOnce(
            .awsTemporary(
                region: "us-west-2", service: "bedrock",
                .webIdentity(AWSWebIdentity(roleARN: identity.roleARN, tokenFile: tokenFile, sessionName: "other", stsURL: sts.baseURL))),
            flavor: .bedrock)
        #expect(refused.resultClass == .auth)
        #expect(
            refused.detail?.contains(
                "STS refused AssumeRoleWithWebIdentity for arn:aws:iam::123456789012:role/probes: HTTP 403 AccessDenied") == true,
            "\(refused.detail ?? "")")
        client.shutdown()
        await sts.stop()
    }

    /// EKS Pod Identity: the agent's endpoint, asked with the token file as `Authorization`.
    @Test func containerCredentialsSignTheProbe() async throws {
        let endpoint = try await HTTPServer.start { request in
            guard request.header("authorization") == "eks-pod-token" else { return .json(401, #"{"message":"bad token"}"#) }
            return .json(
                200,
                #"{"AccessKeyId":"ASIAPOD","SecretAccessKey":"pod-secret","Token":"pod-session","Expiration":"2099-01-01T00:00:00Z"}"#)
        }
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("pod-\(UUID())").path
        try "eks-pod-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let origin = AWSCredentialOrigin.container(url: endpoint.baseURL + "/v1/credentials", tokenFile: tokenFile)
        let (result, requests) = try await probeOnce(.awsTemporary(region: "us-west-2", service: "bedrock", origin), flavor: .bedrock)
        #expect(result.resultClass == .ok)
        #expect(requests.first?.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=ASIAPOD/") == true)
        #expect(requests.first?.header("x-amz-security-token") == "pod-session")
        try "stale".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let (refused, _) = try await probeOnce(.awsTemporary(region: "us-west-2", service: "bedrock", origin), flavor: .bedrock)
        #expect(refused.resultClass == .auth && refused.detail?.contains("HTTP 401") == true)
        await endpoint.stop()
    }

    @Test func sigV4HeadersArePresentOnTheWire() async throws {
        let aws = SigV4Signer(
            region: "us-west-2", service: "bedrock",
            credentials: AWSCredentials(accessKeyID: "AKIDPROBE", secretAccessKey: "secret/key", sessionToken: "session-token-value"))
        let (result, requests) = try await probeOnce(.awsSigV4(aws), flavor: .bedrock)
        #expect(result.resultClass == .ok)
        let request = try #require(requests.first)
        let authorization = try #require(request.header("authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDPROBE/"))
        #expect(authorization.contains("/us-west-2/bedrock/aws4_request"))
        #expect(authorization.contains("x-amz-security-token"))
        #expect(request.header("x-amz-date") != nil)
        #expect(request.header("x-amz-security-token") == "session-token-value")
    }
}
