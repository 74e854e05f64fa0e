import ControlAPI
import HTTP
import Secrets
import Timekeeping

/// How the agent gets its Vault token: a static one (`token_env` / `token_file`, the file read
/// again when it changes, as a Vault Agent sink rewrites it), or a login with a workload identity.
public enum VaultAuth: Sendable, Equatable {
    case token(Credential)
    case login(VaultLogin)
}

/// A login with an identity token: Vault's Kubernetes auth method (the pod's service-account
/// token) or its JWT/OIDC method (any identity token). `POST /v1/auth/<mount>/login` with
/// `{role, jwt}`; the token it issues is renewed (`renew-self`) and replaced by a new login when
/// renewal is refused or its max TTL nears.
public struct VaultLogin: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable { case kubernetes, jwt }
    public var method: Method
    /// The auth method's mount (default: the method's name).
    public var mount: String
    public var role: String
    /// The identity token, read again at each login (Kubernetes rotates it).
    public var jwtFile: String

    public static let serviceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"

    public init(method: Method, mount: String? = nil, role: String, jwtFile: String = serviceAccountToken) {
        self.method = method
        self.mount = mount ?? method.rawValue
        self.role = role
        self.jwtFile = jwtFile
    }
}

/// A token Vault issued at a login, and when to renew it or log in again (pure: the times are on
/// the caller's clock).
public struct VaultLease: Sendable, Equatable {
    public let token: String
    public let renewable: Bool
    /// The lease of the login: a renewal that gives back less than half of it means the max TTL is near.
    public let firstTTL: Duration
    /// When the current lease started (the login or the last renewal), and how long it runs.
    public private(set) var since: Duration
    public private(set) var ttl: Duration

    public enum Next: Sendable, Equatable { case use, renew, login }

    public init(token: String, ttl: Duration, renewable: Bool, at now: Duration) {
        self.token = token
        self.renewable = renewable
        firstTTL = ttl
        since = now
        self.ttl = ttl
    }

    /// Use the token for the first two thirds of its lease; then renew it while renewals still
    /// give at least half the first lease; else (or once it has expired) log in again.
    public func next(at now: Duration) -> Next {
        let age = now - since
        if age >= ttl { return .login }
        if age < ttl / 3 * 2 { return .use }
        return renewable && ttl >= firstTTL / 2 ? .renew : .login
    }

    public mutating func renewed(ttl: Duration, at now: Duration) {
        since = now
        self.ttl = ttl
    }

    /// When it expires, on the caller's clock.
    public var expires: Duration { since + ttl }
}

/// The token of one Vault, logged in, renewed and replaced as ``VaultLease`` says; a request
/// asks for it right before it is sent.
public actor VaultSession: TokenSource {
    private let login: VaultLogin
    private let service: JSONService
    private let clock: any AgentClock
    private var lease: VaultLease?
    /// Logins and renewals done, for tests and logs.
    public private(set) var logins = 0
    public private(set) var renewals = 0

    init(login: VaultLogin, service: JSONService, clock: any AgentClock) {
        self.login = login
        self.service = service
        self.clock = clock
    }

    public func token() async throws(ControlError) -> String {
        let now = clock.elapsed
        switch lease?.next(at: now) ?? .login {
        case .use: return lease!.token
        case .renew:
            if let token = try? await renew(lease!.token, at: now) { return token }
            return try await logIn(at: now)
        case .login: return try await logIn(at: now)
        }
    }

    /// Forgets the token (Vault refused it: revoked), so the next request logs in.
    public func invalidate() { lease = nil }

    private func logIn(at now: Duration) async throws(ControlError) -> String {
        let jwt = try Credential.file(login.jwtFile).resolve([:])
        let place = "Vault login (\(login.method.rawValue) auth at auth/\(login.mount), role \(login.role))"
        let answer = try await service.call(
            "POST", "/v1/auth/\(login.mount)/login", body: .object(["role": .string(login.role), "jwt": .string(jwt)]), resend: .safe)
        guard (200..<300).contains(answer.status) else {
            throw .credential("\(place) refused: HTTP \(answer.status) \(answer.json?["errors"]?.array?.first?.string ?? "")")
        }
        let issued = try Self.auth(answer, place)
        lease = VaultLease(token: issued.token, ttl: issued.ttl, renewable: issued.renewable, at: now)
        logins += 1
        return issued.token
    }

    private func renew(_ token: String, at now: Duration) async throws(ControlError) -> String {
        let answer = try await service.call(
            "POST", "/v1/auth/token/renew-self", body: .object([:]), headers: [HTTPHeader("X-Vault-Token", token)], resend: .safe)
        guard (200..<300).contains(answer.status) else { throw .credential("Vault refused to renew the token: HTTP \(answer.status)") }
        let renewed = try Self.auth(answer, "Vault token renewal")
        guard renewed.ttl > .zero else { throw .credential("Vault renewed the token with no TTL left") }
        lease?.renewed(ttl: renewed.ttl, at: now)
        renewals += 1
        return token
    }

    private static func auth(_ answer: JSONService.Answer, _ place: String) throws(ControlError) -> (
        token: String, ttl: Duration, renewable: Bool
    ) {
        guard let auth = answer.json?["auth"], let token = auth["client_token"]?.string, !token.isEmpty,
            let seconds = auth["lease_duration"]?.int
        else { throw .malformed("\(place): no auth.client_token or auth.lease_duration") }
        Secrets.register(token)
        return (token, .seconds(seconds), auth["renewable"]?.bool ?? false)
    }
}
