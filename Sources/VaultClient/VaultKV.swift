import ControlAPI
import HTTP
import Timekeeping

/// Where the override lives in Vault (Runway layout: KV v2 mount `runway`, one secret per
/// variable, key `value`); every part is configuration.
public struct VaultSettings: Sendable, Equatable {
    public var address: String
    public var namespace: String?
    public var mount: String
    public var path: String
    public var key: String
    public var auth: VaultAuth

    public init(address: String, namespace: String? = nil, mount: String = "runway", path: String, key: String = "value", auth: VaultAuth) {
        self.address = address
        self.namespace = namespace
        self.mount = mount
        self.path = path
        self.key = key
        self.auth = auth
    }

    /// With a static token.
    public init(address: String, namespace: String? = nil, mount: String = "runway", path: String, key: String = "value", token: Credential)
    {
        self.init(address: address, namespace: namespace, mount: mount, path: path, key: key, auth: .token(token))
    }
}

/// One version of the secret as read: every key of its data (so a write keeps the others), and
/// the configured key's string.
public struct VaultSecret: Sendable, Equatable {
    /// 0 when the secret does not exist yet (a write with cas 0 creates it).
    public var version: Int
    public var data: [String: JSONValue]
    public var value: String? { data[key]?.string }
    public let key: String
    /// The version is deleted (or destroyed): it holds nothing, yet a check-and-set write must name it.
    public var deleted = false
}

/// A Vault KV v2 client for one secret: reads with versions, writes only with check-and-set.
public struct VaultKV: Sendable {
    public let settings: VaultSettings
    private let service: JSONService
    /// With a login method: the session that logs in and renews (nil: a static token).
    public let session: VaultSession?

    /// Logins and renewals wait on `clock`.
    public init(
        settings: VaultSettings, client: HTTPClient, environment: [String: String], timeout: Duration = .seconds(10), retries: Int = 3,
        backoff: Duration = .milliseconds(200), clock: any AgentClock
    ) throws(ControlError) {
        self.settings = settings
        let headers = settings.namespace.map { [HTTPHeader("X-Vault-Namespace", $0)] } ?? []
        let source: any TokenSource
        switch settings.auth {
        case .token(let credential):
            source = try CredentialSource(credential, environment: environment)
            session = nil
        case .login(let login):
            let session = VaultSession(
                login: login,
                service: JSONService(
                    client: client, baseURL: settings.address.trimmingSlash, headers: headers, timeout: timeout, retries: retries,
                    backoff: backoff, clock: clock),
                clock: clock)
            source = session
            self.session = session
        }
        service = JSONService(
            client: client, baseURL: settings.address.trimmingSlash, headers: headers, timeout: timeout, retries: retries, backoff: backoff,
            authorization: ("X-Vault-Token", "", source), clock: clock)
    }

    private var dataPath: String { "/v1/\(settings.mount)/data/\(settings.path)" }
    private var metadataPath: String { "/v1/\(settings.mount)/metadata/\(settings.path)" }
    private var place: String { "\(settings.mount)/\(settings.path)" }

    /// The current version (or an older one). A deleted or destroyed version answers 404 with its
    /// number (and `deletion_time`) in the body: it is read as empty, at that version.
    public func read(version: Int? = nil) async throws(ControlError) -> VaultSecret {
        let answer = try await call("GET", dataPath + (version.map { "?version=\($0)" } ?? ""))
        if answer.status == 404 {
            if let deleted = answer.json?["data"]?["metadata"]?["version"]?.int {
                return VaultSecret(version: deleted, data: [:], key: settings.key, deleted: true)
            }
            if version == nil { return VaultSecret(version: 0, data: [:], key: settings.key) }
        }
        try check(answer, "read")
        guard let data = answer.json?["data"]?["data"]?.object, let current = answer.json?["data"]?["metadata"]?["version"]?.int else {
            throw .malformed("read of \(place): no data.data or data.metadata.version")
        }
        if let value = data[settings.key], value.string == nil {
            throw .malformed("\(place): key \(settings.key) is not a string")
        }
        return VaultSecret(version: current, data: data, key: settings.key)
    }

    /// Writes `data` only if the secret is still at version `cas`; returns the new version.
    public func write(_ data: [String: JSONValue], cas: Int) async throws(ControlError) -> Int {
        let answer = try await call(
            "POST", dataPath, body: .object(["options": .object(["cas": .number(Double(cas))]), "data": .object(data)]), resend: .safe)
        if answer.status == 400, answer.text.contains("check-and-set") { throw .casMismatch }
        try check(answer, "write")
        guard let version = answer.json?["data"]?["version"]?.int else { throw .malformed("write of \(place): no data.version") }
        return version
    }

    /// `custom_metadata` of the secret (empty when it has none).
    public func customMetadata() async throws(ControlError) -> [String: String] {
        let answer = try await call("GET", metadataPath)
        if answer.status == 404 { return [:] }
        try check(answer, "read metadata of")
        return (answer.json?["data"]?["custom_metadata"]?.object ?? [:]).compactMapValues(\.string)
    }

    /// Replaces the entries whose names start with `prefix` by `entries`, never touching anyone
    /// else's: a JSON merge patch of only those entries (`PATCH …/metadata/…`, Vault 1.9+; an
    /// entry set to null is removed), so a concurrent writer of other entries (a person, another
    /// target of the same secret) keeps them. A Vault without PATCH gets the whole map back, and
    /// the write is repeated on the map as it is then whenever another writer changed it between
    /// the read and the write.
    public func replaceCustomMetadata(prefix: String, with entries: [String: String]) async throws(ControlError) {
        let current = try await customMetadata()
        var patch: [String: JSONValue] = entries.mapValues { .string($0) }
        for key in current.keys where key.hasPrefix(prefix) && entries[key] == nil { patch[key] = .null }
        let answer = try await call(
            "PATCH", metadataPath, body: .object(["custom_metadata": .object(patch)]), contentType: "application/merge-patch+json")
        // 405: a Vault without PATCH; 404: no metadata yet to patch; 403: a policy that grants
        // `update` but not `patch` (Vault authorises a merge patch with `patch` only).
        guard [403, 404, 405].contains(answer.status) else { return try check(answer, "patch metadata of") }
        var seen = current
        for _ in 0..<5 {
            var merged = seen.filter { !$0.key.hasPrefix(prefix) }
            merged.merge(entries) { _, new in new }
            let now = try await customMetadata()
            guard now == seen else {
                seen = now  // another writer between the read and the write: merge again onto theirs
                continue
            }
            try check(
                try await call(
                    "POST", metadataPath, body: .object(["custom_metadata": .object(merged.mapValues { .string($0) })]), resend: .safe),
                "write metadata of")
            return
        }
        throw .unavailable("the metadata of \(place) kept changing under the agent: its ownership record is not written")
    }

    /// The token's TTL left in seconds (`auth/token/lookup-self`); 0: it never expires (a root token).
    public func tokenTTL() async throws(ControlError) -> Int {
        let answer = try await call("GET", "/v1/auth/token/lookup-self")
        try check(answer, "look up the token for")
        guard let ttl = answer.json?["data"]?["ttl"]?.int else { throw .malformed("lookup-self: no data.ttl") }
        return ttl
    }

    /// What the token may do on the secret's data and metadata paths (`sys/capabilities-self`).
    public func capabilities() async throws(ControlError) -> (data: [String], metadata: [String]) {
        let paths = ["\(settings.mount)/data/\(settings.path)", "\(settings.mount)/metadata/\(settings.path)"]
        let answer = try await call(
            "POST", "/v1/sys/capabilities-self", body: .object(["paths": .array(paths.map { .string($0) })]), resend: .safe)
        try check(answer, "read the token's capabilities on")
        // Vault answers each path at the top level, and (since 1.x) again under `data`.
        func listed(_ path: String) -> [String] {
            (answer.json?[path] ?? answer.json?["data"]?[path])?.array?.compactMap(\.string) ?? []
        }
        return (listed(paths[0]), listed(paths[1]))
    }

    /// One call; a token Vault refuses (revoked, expired early) is dropped and the call made once
    /// more with a new login.
    /// Every request the agent makes of Vault is safe to send twice (reads, check-and-set writes,
    /// merge patches, whole-map metadata writes guarded by a read).
    private func call(
        _ method: String, _ path: String, body: JSONValue? = nil, contentType: String = "application/json", resend: Resend = .safe
    ) async throws(ControlError) -> JSONService.Answer {
        let answer = try await service.call(method, path, body: body, contentType: contentType, resend: resend)
        guard answer.status == 403, let session else { return answer }
        await session.invalidate()
        return try await service.call(method, path, body: body, contentType: contentType, resend: resend)
    }

    private func check(_ answer: JSONService.Answer, _ verb: String) throws(ControlError) {
        switch answer.status {
        case 200..<300: return
        case 403: throw .forbidden("the Vault token may not \(verb) \(place) (HTTP 403)")
        default: throw .unavailable("\(verb) \(place): HTTP \(answer.status) \(answer.text.prefix(200))")
        }
    }
}
