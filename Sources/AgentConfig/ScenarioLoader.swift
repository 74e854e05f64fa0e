import ProbeResults
import Scenarios
import YAMLConfig

/// Reads scenario files; every error names the file, line and field.
public enum ScenarioLoader {
    /// The longest scenario (and any time in one): a week, which replays in about a second.
    public static let longest: Duration = .seconds(7 * 86_400)

    public static func load(file: String) throws(ConfigError) -> Scenario {
        try parse(YAMLFields.load(file: file))
    }

    public static func parse(_ yaml: YAMLFields) throws(ConfigError) -> Scenario {
        try yaml.rejectUnknownKeys(["name", "description", "seed", "duration", "providers", "agent_network", "expect"])
        let name = try yaml.string("name")
        let duration = try yaml.duration("duration", max: Self.longest).seconds
        guard duration > 0 else { throw yaml.error("duration", "must be more than 0") }
        let seedValue = try yaml.optionalInt("seed") ?? 1
        guard seedValue >= 0 else { throw yaml.error("seed", "must not be negative") }
        guard let providerFields = try yaml.optionalFields("providers"), !providerFields.keys.isEmpty else {
            throw yaml.error(
                yaml.has("providers") ? "providers" : nil,
                yaml.has("providers") ? "needs at least one provider" : "missing required field providers")
        }
        var providers: [(name: String, phases: [Scenario.Phase])] = []
        var models: [(provider: String, model: String, phases: [Scenario.Phase])] = []
        for provider in providerFields.keys {
            // A list of phases, or `{phases: [...], models: {<model id>: [phases]}}`.
            let list = try providerFields.holdsMapping(provider) ? nil : providerFields.optionalList(provider)
            if let entry = providerFields.holdsMapping(provider) ? try providerFields.optionalFields(provider) : nil {
                try entry.rejectUnknownKeys(["phases", "models"])
                // Without `phases`, the provider itself behaves as the defaults say (no failures, p50 500 ms).
                let own = try entry.optionalList("phases") ?? []
                if entry.has("phases"), own.isEmpty { throw entry.error("phases", "needs a list of phases") }
                guard let byModel = try entry.optionalFields("models"), !byModel.keys.isEmpty else {
                    throw entry.error(entry.has("models") ? "models" : nil, "needs `models:` with at least one model and its phases")
                }
                for model in byModel.keys {
                    guard let list = try byModel.optionalList(model), !list.isEmpty else {
                        throw byModel.error(model, "needs a list of phases")
                    }
                    models.append((provider, model, try phases(list, duration: duration, firstAtZero: false)))
                }
                providers.append((provider, try phases(own, duration: duration)))
                continue
            }
            guard let list, !list.isEmpty else { throw providerFields.error(provider, "needs a list of phases") }
            providers.append((provider, try phases(list, duration: duration)))
        }
        var network: [(at: Double, up: Bool)] = []
        for (index, item) in (try yaml.optionalList("agent_network") ?? []).enumerated() {
            try item.rejectUnknownKeys(["at", "up"])
            let at = try item.duration("at", max: Self.longest).seconds
            guard let up = try item.optionalBool("up") else { throw item.error(nil, "missing required field \(item.fieldPath("up"))") }
            if index == 0, at != 0 { throw item.error("at", "the first entry must be at 0s") }
            if let last = network.last, at <= last.at { throw item.error("at", "entries must be in increasing time order") }
            network.append((at, up))
        }
        var expected: [Scenario.ExpectedAction]?
        if let expect = try yaml.optionalFields("expect") {
            try expect.rejectUnknownKeys(["actions"])
            expected = try (expect.optionalList("actions") ?? []).map { item throws(ConfigError) in
                try action(item, providers: Set(providers.map(\.name)), duration: duration)
            }
        }
        return Scenario(
            name: name, description: try yaml.optionalString("description"), seed: UInt64(seedValue), duration: duration,
            providers: providers, models: models, agentNetwork: network, expectedActions: expected)
    }

    static let failureClasses: [ProbeClass] = ProbeClass.allCases.filter { $0 != .ok && $0 != .slow }

    /// A model's phases may start after 0s: before its first, it behaves as its provider.
    private static func phases(_ list: [YAMLFields], duration: Double, firstAtZero: Bool = true) throws(ConfigError) -> [Scenario.Phase] {
        var phases: [Scenario.Phase] = []
        for item in list {
            try item.rejectUnknownKeys(["at", "latency", "failure"])
            var phase = Scenario.Phase(at: try item.duration("at", max: Self.longest).seconds)
            if firstAtZero, phases.isEmpty, phase.at != 0 { throw item.error("at", "the first phase must start at 0s") }
            if let last = phases.last, phase.at <= last.at { throw item.error("at", "phases must be in increasing time order") }
            if phase.at > duration { throw item.error("at", "is after the scenario's duration") }
            if let latency = try item.optionalFields("latency") {
                try latency.rejectUnknownKeys(["p50", "p99"])
                phase.latencyP50 = try latency.has("p50") ? latency.duration("p50").seconds : nil
                phase.latencyP99 = try latency.has("p99") ? latency.duration("p99").seconds : nil
                if let p50 = phase.latencyP50, p50 <= 0 { throw latency.error("p50", "must be more than 0") }
                if let p50 = phase.latencyP50, let p99 = phase.latencyP99, p99 < p50 { throw latency.error("p99", "must not be below p50") }
            }
            if let failure = try item.optionalFields("failure") {
                try failure.rejectUnknownKeys(["rate", "class"])
                phase.failureRate = try failure.optionalDouble("rate")
                if let rate = phase.failureRate, !(0...1).contains(rate) { throw failure.error("rate", "must be between 0 and 1") }
                if let text = try failure.optionalString("class") {
                    guard let resultClass = ProbeClass(rawValue: text), failureClasses.contains(resultClass) else {
                        throw failure.error("class", "'\(text)' is not one of \(failureClasses.map(\.rawValue).joined(separator: ", "))")
                    }
                    phase.failureClass = resultClass
                }
            }
            phases.append(phase)
        }
        return phases
    }

    private static func action(_ item: YAMLFields, providers: Set<String>, duration: Double) throws(ConfigError) -> Scenario.ExpectedAction
    {
        try item.rejectUnknownKeys(["action", "provider", "model", "not_before", "by"])
        let text = try item.string("action")
        guard let action = Scenario.ExpectedAction.Action(rawValue: text) else {
            throw item.error("action", "'\(text)' is not failover or restore")
        }
        let provider = try item.string("provider")
        guard providers.contains(provider) else { throw item.error("provider", "'\(provider)' is not among the scenario's providers") }
        let notBefore = try item.duration("not_before", default: .zero, max: Self.longest).seconds
        let by = try item.duration("by", default: .seconds(Int64(duration.rounded(.up))), max: Self.longest).seconds
        guard by >= notBefore else { throw item.error("by", "is before not_before") }
        return Scenario.ExpectedAction(
            action: action, provider: provider, model: try item.optionalString("model"), notBefore: notBefore, by: by)
    }
}
