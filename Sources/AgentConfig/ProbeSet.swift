import ControlAPI
import Health
import ProbeResults
import ProbeTemplates
import Probing
import Selection
import YAMLConfig

/// Every endpoint the agent probes: the specs in `agent.probes` (each speaks for its provider, or
/// for the `model:` it names) and those derived from the catalog (`model_probes`), with what each
/// costs and how often it is probed in steady state under `agent.max_probe_cost_per_day`.
public struct ProbeSet: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var subject: String
        /// Why it is probed: `spec` (written by hand), `serves` (a default) or `replaces` (a candidate replacement).
        public var why: String
        /// Stretched last to first under the budget: hand-written specs, then defaults, then replacements.
        var rank: Int { ["spec": 0, "serves": 1][why] ?? 2 }
        public var costPerProbe: Double
        /// Its steady interval in seconds, after the budget.
        public var interval: Double
        public var perDay: Double { ProbeBudget.perDay(costPerProbe: costPerProbe, interval: interval) }
    }

    public var entries: [Entry]
    /// Models worth probing that are not, and why.
    public var unprobed: [ModelProbes.Endpoint]
    /// The specs, with credentials (empty when built without them).
    public var specs: [ProbeSpec]

    /// For the agent core: each endpoint's name and subject.
    public var endpoints: [(name: String, subject: String)] { entries.map { ($0.name, $0.subject) } }
    /// Seconds each endpoint's steady interval is stretched by, to keep within the budget.
    public func stretch(steady: Double) -> [String: Double] {
        Dictionary(entries.map { ($0.name, $0.interval - steady) }, uniquingKeysWith: { a, _ in a })
    }

    /// `handWritten`: the specs loaded from `agent.probes`. With `environment`, derived specs are
    /// built with their credentials (for `run`); without, only their entries (for `check`, `replay`).
    public static func build(
        _ configuration: AgentConfiguration, planner: Planner?, handWritten: [ProbeSpec], environment: [String: String]?
    ) throws(ConfigError) -> ProbeSet {
        var entries: [Entry] = []
        let steady = configuration.policy.steadyInterval
        for spec in handWritten {
            if let model = spec.model, let planner {
                guard let info = planner.catalog[model] else {
                    throw ConfigError(file: spec.file, field: "model", problem: "unknown model \(model) (not in models.yml)")
                }
                guard info.provider == spec.provider else {
                    throw ConfigError(
                        file: spec.file, field: "model",
                        problem: "\(model) is on \(info.provider ?? "no managed provider"), not \(spec.provider)")
                }
            }
            entries.append(Entry(name: spec.name, subject: spec.subject, why: "spec", costPerProbe: spec.costPerProbe, interval: steady))
        }
        var unprobed: [ModelProbes.Endpoint] = []
        var specs = handWritten
        if let probes = configuration.modelProbes, let planner {
            for endpoint in probes.endpoints(planner) {
                guard endpoint.skipped == nil else {
                    unprobed.append(endpoint)
                    continue
                }
                if let clash = handWritten.first(where: { $0.name == endpoint.name }) {
                    throw ConfigError(
                        file: clash.file, field: "name", problem: "'\(clash.name)' is also the name of the probe derived for that model")
                }
                entries.append(
                    Entry(
                        name: endpoint.name, subject: Subject.key(provider: endpoint.provider, model: endpoint.model),
                        why: endpoint.reason == .serves ? "serves" : "replaces", costPerProbe: endpoint.costPerProbe, interval: steady))
            }
            if let environment {
                do { specs += try probes.specs(planner, environment: environment) } catch {
                    throw ConfigError(file: "config", field: "model_probes", problem: error.description)
                }
            }
        }
        let budget = entries.map { ProbeBudget.Endpoint(name: $0.name, costPerProbe: $0.costPerProbe, rank: $0.rank) }
        guard let intervals = ProbeBudget.intervals(budget, steady: steady, maxPerDay: configuration.agent.maxProbeCostPerDay) else {
            let least = entries.reduce(0) { $0 + ProbeBudget.perDay(costPerProbe: $1.costPerProbe, interval: ProbeBudget.longestInterval) }
            throw ConfigError(
                file: "config", field: "agent.max_probe_cost_per_day",
                problem: "cannot be met: even every \(Int(ProbeBudget.longestInterval)) s the probes cost $\(Money.text(least)) a day")
        }
        for index in entries.indices { entries[index].interval = intervals[entries[index].name] ?? steady }
        return ProbeSet(entries: entries, unprobed: unprobed, specs: specs)
    }
}

/// Dollar amounts as `check` prints them.
public enum Money {
    public static func text(_ dollars: Double) -> String {
        dollars >= 1 ? String(format: "%.2f", dollars) : dollars >= 0.01 ? String(format: "%.3f", dollars) : String(format: "%.5f", dollars)
    }
}
