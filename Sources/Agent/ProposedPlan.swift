import Actions
import ControlAPI
import Lifecycle

/// One target's part of a proposal, decided once: planned as the write would be (the unhealthy
/// avoided, the replacements pre-flighted), journaled with the proposal, shown in its page, and
/// written exactly, or not at all, once approved.
struct ProposedPlan: Sendable, Equatable {
    var target: String
    var pinned: PinnedPlan
    /// The override as JSON, for people (the page, `status`).
    var override: String

    /// The journal's `plan` column: every target's part.
    static func journaled(_ plans: [ProposedPlan]) -> String {
        let items = plans.map { plan -> JSONValue in
            var item: [String: JSONValue] = [
                "target": .string(plan.target), "intended": .string(plan.pinned.intended), "override": .string(plan.override),
                "secret_version": .number(Double(plan.pinned.secretVersion)),
            ]
            if let sha = plan.pinned.sha { item["sha"] = .string(sha) }
            return .object(item)
        }
        return String(decoding: JSONValue.object(["targets": .array(items)]).bytes, as: UTF8.self)
    }

    /// The parts of a journaled proposal; nil when it is not of this shape (written by an older agent).
    static func parse(_ text: String) -> [ProposedPlan]? {
        guard let items = JSONValue.parse(Array(text.utf8))?["targets"]?.array else { return nil }
        var plans: [ProposedPlan] = []
        for item in items {
            guard let target = item["target"]?.string, let intended = item["intended"]?.string,
                let version = item["secret_version"]?.int
            else { return nil }
            plans.append(
                ProposedPlan(
                    target: target, pinned: PinnedPlan(intended: intended, secretVersion: version, sha: item["sha"]?.string),
                    override: item["override"]?.string ?? intended))
        }
        return plans
    }

    /// What differs from `earlier` (the same target's part of an older proposal), for the page of the new one.
    func changes(since earlier: ProposedPlan) -> String? {
        var what: [String] = []
        if earlier.pinned.secretVersion != pinned.secretVersion {
            what.append("the secret is at version \(pinned.secretVersion), not \(earlier.pinned.secretVersion)")
        }
        if earlier.pinned.sha != pinned.sha {
            what.append(
                "the latest pipeline is at \(pinned.sha.map { String($0.prefix(12)) } ?? "none"), not "
                    + "\(earlier.pinned.sha.map { String($0.prefix(12)) } ?? "none")")
        }
        if earlier.pinned.intended != pinned.intended { what.append("the override is now \(override), not \(earlier.override)") }
        return what.isEmpty ? nil : "\(target): " + what.joined(separator: "; ")
    }
}
