/// Ownership in Vault's `custom_metadata` (string values of at most 512 bytes, at most 64 keys):
/// a state entry, and one entry per owned key so each stays small. While an action is pending,
/// the state entry also names it, and each key entry its value after the pending write where
/// that differs (`next_after`, `next_before` or `next_before_absent`, or `next_released`).
extension Ownership {
    public static let metadataPrefix = "failover-agent/"
    static let keyPrefix = metadataPrefix + "key/"

    /// The entries to store; none when the agent owns nothing and nothing is pending.
    public var metadata: [String: String] {
        var entries: [String: String] = [:]
        guard !isEmpty || pending != nil || !changeRequests.isEmpty else { return entries }
        var state = ModelOverride([("providers", providers)])
        if let baseVersion { state["base_version"] = [String(baseVersion)] }
        if let writtenVersion { state["written_version"] = [String(writtenVersion)] }
        if !changeRequests.isEmpty { state["change_requests"] = changeRequests.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        if let pending {
            state["pending"] = [pending.action, pending.provider] + (pending.id.map { [$0] } ?? [])
            state["deploy"] = [String(pending.pipeline), String(pending.job), pending.jobName]
            if let write = pending.write {
                state["cas"] = [String(write.casVersion)]
                state["next_providers"] = write.providers
                if let base = write.baseVersion { state["next_base_version"] = [String(base)] }
            }
        }
        entries[Self.metadataPrefix + "state"] = state.json
        let write = pending?.write
        for feature in Set(keys.keys).union(write?.keys.keys ?? [:].keys) {
            let now = keys[feature]
            var record = ModelOverride()
            if let now {
                if let before = now.before { record["before"] = before }
                record["after"] = now.after
            }
            if let write, write.keys[feature] != now {
                if let next = write.keys[feature] {
                    record["next_after"] = next.after
                    if next.before != now?.before {
                        if let before = next.before { record["next_before"] = before } else { record["next_before_absent"] = [] }
                    }
                } else {
                    record["next_released"] = []
                }
            }
            entries[Self.keyPrefix + feature] = record.json
        }
        return entries
    }

    /// Reads ownership back from `custom_metadata`; entries of others are ignored.
    public init(metadata: [String: String]) throws(ModelOverride.Malformed) {
        var nextKeys: [String: Key] = [:]
        var write: PendingAction.Write?
        if let text = metadata[Self.metadataPrefix + "state"] {
            let state = try ModelOverride.parse(text)
            providers = state["providers"] ?? []
            baseVersion = state["base_version"]?.first.flatMap { Int($0) }
            writtenVersion = state["written_version"]?.first.flatMap { Int($0) }
            for entry in state["change_requests"] ?? [] {
                let parts = entry.split(separator: "=", maxSplits: 1)
                if parts.count == 2, let iid = Int(parts[1]) { changeRequests[String(parts[0])] = iid }
            }
            if let named = state["pending"], (2...3).contains(named.count), let deploy = state["deploy"], deploy.count == 3,
                let pipeline = Int(deploy[0]), let job = Int(deploy[1])
            {
                if let cas = state["cas"]?.first.flatMap({ Int($0) }) {
                    write = .init(
                        casVersion: cas, providers: state["next_providers"] ?? [], keys: [:],
                        baseVersion: state["next_base_version"]?.first.flatMap { Int($0) })
                }
                pending = PendingAction(
                    action: named[0], provider: named[1], pipeline: pipeline, job: job, jobName: deploy[2], write: nil,
                    id: named.count == 3 ? named[2] : nil)
            } else if state["pending"] != nil {
                throw ModelOverride.Malformed(offset: 0, problem: "the pending action in \(Self.metadataPrefix)state is incomplete")
            }
        }
        for (name, value) in metadata where name.hasPrefix(Self.keyPrefix) {
            let feature = String(name.dropFirst(Self.keyPrefix.count))
            let record = try ModelOverride.parse(value)
            let now = record["after"].map { Key(before: record["before"], after: $0) }
            keys[feature] = now
            guard write != nil else { continue }
            if let after = record["next_after"] {
                let before = record["next_before"] ?? (record["next_before_absent"] != nil ? nil : now?.before)
                nextKeys[feature] = Key(before: before, after: after)
            } else if record["next_released"] == nil, let now {
                nextKeys[feature] = now
            }
        }
        if var write {
            write.keys = nextKeys
            pending?.write = write
        }
    }
}
