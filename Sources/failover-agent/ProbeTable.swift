import AgentConfig
import Foundation
import Health
import ProbeResults

/// `check`'s table of probed endpoints: why each is probed, how often in steady state, what it
/// costs a day, and the requests a minute it takes from the provider's quota at each cadence
/// (steady, confirming a failure, watching a brownout), under the probe cap; totals per provider;
/// the models left unprobed and why.
enum ProbeTable {
    static func text(_ probes: ProbeSet, budget: Double?, policy: HealthPolicy) -> String {
        let steady = policy.steadyInterval
        let cap = ProbeCap(policy: policy)
        let total = probes.entries.reduce(0) { $0 + $1.perDay }
        var lines = [
            "probes: \(probes.entries.count) endpoint(s), $\(Money.text(total)) a day in steady state"
                + (budget.map { " (agent.max_probe_cost_per_day: $\(Money.text($0)))" } ?? "")
        ]
        let width = max(8, probes.entries.map(\.subject.count).max() ?? 0)
        lines.append("  " + pad("endpoint", width) + "  why       every  $/probe    $/day      req/min: steady confirm brownout")
        for entry in probes.entries.sorted(by: { ($0.subject, $0.name) < ($1.subject, $1.name) }) {
            let every = entry.interval > steady ? "\(Int(entry.interval.rounded()))s*" : "\(Int(entry.interval.rounded()))s"
            let name =
                entry.name == entry.subject || entry.name == Subject.model(entry.subject)
                ? entry.subject : "\(entry.subject) (\(entry.name))"
            lines.append(
                "  " + pad(name, width) + "  " + pad(entry.why, 8) + "  " + pad(every, 5) + "  "
                    + pad(String(format: "%.6f", entry.costPerProbe), 9)
                    + "  " + pad(Money.text(entry.perDay), 9) + "  "
                    + [entry.interval, policy.confirmInterval, policy.brownoutInterval].map {
                        pad(perMinute(cap.perMinute(interval: $0)), 7)
                    }
                    .joined(separator: " ") + (entry.costPerProbe == 0 ? "  (no cost_per_probe)" : ""))
        }
        var endpoints: [String: [ProbeSet.Entry]] = [:]
        for entry in probes.entries { endpoints[Subject.provider(entry.subject), default: []].append(entry) }
        lines.append(
            "  requests a minute per provider, steady / every endpoint in question (cap \(Int(policy.probeCapPerProvider))): "
                + endpoints.sorted { $0.key < $1.key }.map { provider, entries in
                    let steadyTotal = entries.reduce(0) { $0 + cap.perMinute(interval: $1.interval) }
                    let urgent = Double(entries.count) * cap.perMinute(interval: policy.brownoutInterval)
                    return "\(provider) \(perMinute(min(steadyTotal, policy.probeCapPerProvider))) / "
                        + "\(perMinute(min(urgent, policy.probeCapPerProvider)))"
                }.joined(separator: ", "))
        var byProvider: [String: Double] = [:]
        for entry in probes.entries { byProvider[Subject.provider(entry.subject), default: 0] += entry.perDay }
        lines.append(
            "  per provider: " + byProvider.sorted { $0.key < $1.key }.map { "\($0.key) $\(Money.text($0.value))" }.joined(separator: ", "))
        if probes.entries.contains(where: { $0.interval > steady }) {
            lines.append("  * probed less often to keep within the budget (never the confirmation probes after a failure)")
        }
        for skipped in probes.unprobed {
            lines.append(
                "  not probed: \(skipped.model) (\(skipped.provider), \(skipped.reason == .serves ? "default" : "replacement") in "
                    + "\(skipped.features.joined(separator: ", "))): \(skipped.skipped ?? "")")
        }
        return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n")
    }

    private static func perMinute(_ value: Double) -> String { value >= 10 ? "\(Int(value.rounded()))" : String(format: "%.1f", value) }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
