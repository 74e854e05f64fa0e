/// An action recorded in the secret's metadata before its side effects, so whichever replica
/// leads next (or this one after a crash) can finish it: the redeploy it owes, and until the
/// secret write is known to have happened, the version that write is checked against and the
/// ownership it leads to.
public struct PendingAction: Sendable, Equatable {
    /// The ownership a write leads to, and the version it is checked against (it creates `casVersion + 1`).
    public struct Write: Sendable, Equatable {
        public var casVersion: Int
        public var providers: [String]
        public var keys: [String: Ownership.Key]
        public var baseVersion: Int?

        public init(casVersion: Int, providers: [String], keys: [String: Ownership.Key], baseVersion: Int?) {
            self.casVersion = casVersion
            self.providers = providers
            self.keys = keys
            self.baseVersion = baseVersion
        }
    }

    /// `failover` or `restore`, and of which provider.
    public var action: String
    public var provider: String
    /// The deploy job checked before the write, to retry once the secret holds the change.
    public var pipeline: Int
    public var job: Int
    public var jobName: String
    /// nil once the write is known to have happened: only the redeploy is owed.
    public var write: Write?
    /// The action's id: what marks its change request and notes, so whoever finishes it finds
    /// them rather than posting them again.
    public var id: String?

    public init(action: String, provider: String, pipeline: Int, job: Int, jobName: String, write: Write?, id: String? = nil) {
        self.id = id
        self.action = action
        self.provider = provider
        self.pipeline = pipeline
        self.job = job
        self.jobName = jobName
        self.write = write
    }
}

extension Ownership {
    /// This ownership with `pending` recorded as about to write `next` over version `casVersion`.
    public func aboutToWrite(_ next: Ownership, over casVersion: Int, pending: PendingAction) -> Ownership {
        var recorded = self
        recorded.pending = pending
        recorded.pending!.write = .init(casVersion: casVersion, providers: next.providers, keys: next.keys, baseVersion: next.baseVersion)
        return recorded
    }

    /// The ownership once the pending write created `version`; the redeploy stays owed.
    public func written(as version: Int) -> Ownership {
        guard var pending, let write = pending.write else { return self }
        var next = Ownership()
        next.changeRequests = changeRequests
        next.providers = write.providers
        next.keys = write.keys
        if !next.isEmpty {
            next.baseVersion = write.baseVersion
            next.writtenVersion = version
        }
        pending.write = nil
        next.pending = pending
        return next
    }

    /// The ownership with nothing pending: the action is done, or its write never happened.
    public var settled: Ownership {
        var settled = self
        settled.pending = nil
        return settled
    }

    /// Whether `override` (the secret at version `casVersion + 1`) is what the pending write
    /// wrote: every key it owns after the write holds the agent's value, and no key it lets go
    /// still holds the agent's earlier value.
    public func isPendingWrite(_ override: ModelOverride) -> Bool {
        guard let write = pending?.write else { return false }
        for (feature, key) in write.keys where override[feature] != key.after { return false }
        for (feature, key) in keys where write.keys[feature] == nil && override[feature] == key.after { return false }
        return true
    }
}
