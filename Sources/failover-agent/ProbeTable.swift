import AgentConfig
import Foundation
import Health
import ProbeResults

/// `check`'s table of probed endpoints: why each is probed, how often in steady state, and what
/// it costs a day; totals per provider; the models left unprobed and why.
enum ProbeTable {
    static func text(_ probes: ProbeSet, budget: Double?, steady: Double) -> String {
        let total = probes.entries.reduce(0) { $0 + $1.perDay }
        var lines = [
            "probes: \(probes.entries.count) endpoint(s), $\(Money.text(total)) a day in steady state"
                + (budget.map { " (agent.max_probe_cost_per_day: $\(Money.text($0)))" } ?? "")
        ]
        let width = max(8, probes.entries.map(\.subject.count).max() ?? 0)
        lines.append("  " + pad("endpoint", width) + "  why       every  $/probe    $/day")
        for entry in probes.entries.sorted(by: { ($0.subject, $0.name) < ($1.subject, $1.name) }) {
            let every = entry.interval > steady ? "\(Int(entry.interval.rounded()))s*" : "\(Int(entry.interval.rounded()))s"
            let name =
                entry.name == entry.subject || entry.name == Subject.model(entry.subject)
                ? entry.subject : "\(entry.subject) (\(entry.name))"
            lines.append(
                "  " + pad(name, width) + "  " + pad(entry.why, 8) + "  " + pad(every, 5) + "  "
                    + pad(String(format: "%.6f", entry.costPerProbe), 9)
                    + "  " + Money.text(entry.perDay) + (entry.costPerProbe == 0 ? "  (no cost_per_probe)" : ""))
        }
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
        return lines.joined(separator: "\n")
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
