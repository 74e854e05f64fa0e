/// A Kubernetes `coordination.k8s.io/v1` Lease as the elector sees it.
public struct LeaseRecord: Sendable, Equatable {
    public var holder: String?
    public var durationSeconds: Int
    /// RFC 3339 MicroTime strings, as the API server stores them.
    public var acquireTime: String?
    public var renewTime: String?
    public var transitions: Int
    /// The object's `metadata.resourceVersion`; an update must carry the one it read.
    public var resourceVersion: String?
    /// `metadata.annotations`: what the holder shares with the other replicas.
    public var annotations: [String: String]

    public init(
        holder: String?, durationSeconds: Int, acquireTime: String? = nil, renewTime: String? = nil, transitions: Int = 0,
        resourceVersion: String? = nil,
        annotations: [String: String] = [:]
    ) {
        self.holder = holder
        self.durationSeconds = durationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.transitions = transitions
        self.resourceVersion = resourceVersion
        self.annotations = annotations
    }
}

/// Leader election over one Lease, pure: observations and local monotonic time in, requests out.
///
/// As in client-go, expiry is judged by the local time at which the record was last seen to change,
/// never by the timestamps in it, so clock skew between replicas does not matter. A leader that
/// could not renew for `renewDeadline` (shorter than the lease) stops acting before anyone else
/// may take the lease over.
public struct LeaseElector: Sendable {
    public struct Settings: Sendable, Equatable {
        public var identity: String
        public var leaseDuration: Double
        public var renewDeadline: Double
        public var retryPeriod: Double

        public init(identity: String, leaseDuration: Double = 15, renewDeadline: Double = 10, retryPeriod: Double = 2) {
            self.identity = identity
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }
    }

    /// What to send to the API server next.
    public enum Request: Sendable, Equatable {
        case create(LeaseRecord)
        /// Replace the object; `record.resourceVersion` is the one read (a conflict means someone was first).
        case update(LeaseRecord)
        /// Someone else holds a live lease: look again after `retryPeriod`.
        case wait
    }

    public let settings: Settings
    /// The latest record read (nil: no Lease object exists) and the local time it was first seen.
    public private(set) var observed: LeaseRecord?
    private var observedAt = -Double.infinity
    private var known = false
    /// Local time of this replica's latest successful acquire or renew.
    public private(set) var lastRenewal: Double?
    /// Annotations this replica writes with every acquire and renew; the record's others are kept.
    public var published: [String: String] = [:]

    public init(settings: Settings) {
        self.settings = settings
    }

    /// True while this replica holds the lease and renewed it within `renewDeadline`.
    public func isLeader(at now: Double) -> Bool {
        guard let lastRenewal, observed?.holder == settings.identity else { return false }
        return now - lastRenewal < settings.renewDeadline
    }

    /// The API server answered a GET (nil: 404, no such Lease).
    public mutating func observe(_ record: LeaseRecord?, at now: Double) {
        if !known || record != observed { observedAt = now }
        observed = record
        known = true
    }

    /// What to do now, after a fresh observation. `wallTime` is now as RFC 3339 MicroTime.
    public func next(at now: Double, wallTime: String) -> Request {
        guard let current = observed else {
            return .create(
                LeaseRecord(
                    holder: settings.identity, durationSeconds: Int(settings.leaseDuration), acquireTime: wallTime, renewTime: wallTime,
                    annotations: published))
        }
        var record = current
        record.durationSeconds = Int(settings.leaseDuration)
        record.renewTime = wallTime
        record.annotations.merge(published) { _, mine in mine }
        if current.holder == settings.identity { return .update(record) }  // renew
        let expired = current.holder == nil || current.holder == "" || now - observedAt >= Double(current.durationSeconds)
        guard expired else { return .wait }
        record.holder = settings.identity
        record.acquireTime = wallTime
        record.transitions = current.transitions + 1
        return .update(record)
    }

    /// The create or update was accepted; `record` is what the server returned.
    public mutating func succeeded(_ record: LeaseRecord, at now: Double) {
        observed = record
        observedAt = now
        known = true
        lastRenewal = record.holder == settings.identity ? now : nil
    }

    /// Giving the lease up on shutdown: the record to write (holder cleared) if this replica holds it.
    public func release(wallTime: String) -> LeaseRecord? {
        guard var record = observed, record.holder == settings.identity else { return nil }
        record.holder = nil
        record.renewTime = wallTime
        return record
    }
}
