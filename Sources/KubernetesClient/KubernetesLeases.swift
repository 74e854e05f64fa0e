import ControlAPI
import HTTP
import Leadership
import Timekeeping

/// Which Lease the replicas share, and how long a holder keeps it.
public struct LeaseSettings: Sendable, Equatable {
    /// `https://kubernetes.default.svc` in a pod.
    public var apiServer: String
    public var namespace: String
    public var name: String
    /// The pod's service-account token (file) or an environment variable.
    public var token: Credential
    /// The CA bundle the API server's certificate is checked against.
    public var caBundle: String?
    /// This replica's name in `holderIdentity` (the pod name).
    public var identity: String
    public var election: LeaseElector.Settings

    public init(
        apiServer: String, namespace: String, name: String, token: Credential, caBundle: String? = nil, identity: String,
        election: LeaseElector.Settings
    ) {
        self.apiServer = apiServer
        self.namespace = namespace
        self.name = name
        self.token = token
        self.caBundle = caBundle
        self.identity = identity
        self.election = election
    }
}

/// `coordination.k8s.io/v1` Leases: get, create, and update guarded by `resourceVersion`.
/// A conflict (409) comes back as nil: another replica wrote first.
public struct KubernetesLeases: Sendable {
    public let settings: LeaseSettings
    private let service: JSONService

    /// No retries inside: the elector's own cadence retries, and a slow answer must not outlive the
    /// renew deadline. `clock`: the elector's.
    public init(settings: LeaseSettings, client: HTTPClient, environment: [String: String], clock: any AgentClock) throws(ControlError) {
        self.settings = settings
        // The projected service-account token rotates (about hourly): it is read again when the file changes.
        service = JSONService(
            client: client, baseURL: settings.apiServer.trimmingSlash, headers: [],
            timeout: .milliseconds(Int64(settings.election.retryPeriod * 1000)), retries: 0, backoff: .zero,
            authorization: ("Authorization", "Bearer ", try CredentialSource(settings.token, environment: environment)), clock: clock)
    }

    private var collection: String { "/apis/coordination.k8s.io/v1/namespaces/\(settings.namespace)/leases" }

    public func get() async throws(ControlError) -> LeaseRecord? {
        let answer = try await service.call("GET", "\(collection)/\(settings.name)")
        if answer.status == 404 { return nil }
        return try record(answer, "get")
    }

    public func create(_ lease: LeaseRecord) async throws(ControlError) -> LeaseRecord? {
        // A second create of the same Lease answers 409: safe to send twice.
        let answer = try await service.call("POST", collection, body: object(lease), resend: .safe)
        if answer.status == 409 { return nil }
        return try record(answer, "create")
    }

    public func update(_ lease: LeaseRecord) async throws(ControlError) -> LeaseRecord? {
        let answer = try await service.call("PUT", "\(collection)/\(settings.name)", body: object(lease))
        if answer.status == 409 { return nil }
        return try record(answer, "update")
    }

    private func object(_ lease: LeaseRecord) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": .string(settings.name), "namespace": .string(settings.namespace)]
        if let version = lease.resourceVersion { metadata["resourceVersion"] = .string(version) }
        if !lease.annotations.isEmpty { metadata["annotations"] = .object(lease.annotations.mapValues { .string($0) }) }
        var spec: [String: JSONValue] = [
            "leaseDurationSeconds": .number(Double(lease.durationSeconds)), "leaseTransitions": .number(Double(lease.transitions)),
        ]
        if let holder = lease.holder { spec["holderIdentity"] = .string(holder) }
        if let time = lease.acquireTime { spec["acquireTime"] = .string(time) }
        if let time = lease.renewTime { spec["renewTime"] = .string(time) }
        return .object([
            "apiVersion": .string("coordination.k8s.io/v1"), "kind": .string("Lease"), "metadata": .object(metadata), "spec": .object(spec),
        ])
    }

    private func record(_ answer: JSONService.Answer, _ what: String) throws(ControlError) -> LeaseRecord {
        let place = "lease \(settings.namespace)/\(settings.name)"
        if answer.status == 401 || answer.status == 403 {
            throw .forbidden(
                "\(what) \(place): HTTP \(answer.status); the service account needs get, create and update on leases in "
                    + "\(settings.namespace)"
            )
        }
        guard (200..<300).contains(answer.status) else {
            throw .unavailable("\(what) \(place): HTTP \(answer.status) \(answer.text.prefix(200))")
        }
        guard let spec = answer.json?["spec"], let version = answer.json?["metadata"]?["resourceVersion"]?.string else {
            throw .malformed("\(what) \(place): no spec or metadata.resourceVersion")
        }
        return LeaseRecord(
            holder: spec["holderIdentity"]?.string,
            durationSeconds: spec["leaseDurationSeconds"]?.int ?? Int(settings.election.leaseDuration),
            acquireTime: spec["acquireTime"]?.string, renewTime: spec["renewTime"]?.string, transitions: spec["leaseTransitions"]?.int ?? 0,
            resourceVersion: version, annotations: answer.json?["metadata"]?["annotations"]?.object?.compactMapValues(\.string) ?? [:])
    }
}
