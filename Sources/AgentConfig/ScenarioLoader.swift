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

    enum Top {
        static let name: Field<String> = .text("name", "the scenario's name, as replay reports it")
        static let description: Field<String?> = .optionalText("description", "what the scenario models")
        static let seed = Field<Int>(
            FieldDescription(name: "seed", type: "integer", defaultText: "1", bounds: "at least 0", meaning: "seeds the random failures")
        ) { yaml throws(ConfigError) in
            let seed = try yaml.optionalInt("seed") ?? 1
            guard seed >= 0 else { throw yaml.error("seed", "must not be negative") }
            return seed
        }
        static let duration: Field<Duration> = .duration("duration", default: nil, max: longest, "how long the scenario runs")
        static let providers = Field<YAMLFields?>(
            FieldDescription(
                name: "providers", type: "mapping", defaultText: "required", bounds: "at least one provider",
                meaning: "each provider's behaviour over time", nested: providersSection)
        ) { yaml throws(ConfigError) in
            guard let fields = try yaml.optionalFields("providers"), !fields.keys.isEmpty else {
                throw yaml.error(
                    yaml.has("providers") ? "providers" : nil,
                    yaml.has("providers") ? "needs at least one provider" : "missing required field providers")
            }
            return try fields.conform(to: providersSection)
        }
        static let agentNetwork: Field<[YAMLFields]> = .list(
            "agent_network", networkSection, none: "always up", "when the agent's own network is down (every probe fails at once)")
        static let expect: Field<YAMLFields?> = .section("expect", expectSection, "the actions replay must see (none: replay only reports)")
        static let traffic: Field<YAMLFields?> = .section(
            "traffic", trafficSection, none: "none: probes alone", "the gateway's own requests, as its metrics count them")
    }

    enum Traffic {
        static let rps = Field<[String: Double]>(
            FieldDescription(
                name: "rps", type: "number or mapping", defaultText: "required", bounds: "0 to 100000",
                meaning: "requests a second to each subject: one number for every provider, or per provider or `provider/model`")
        ) { yaml throws(ConfigError) in
            guard yaml.has("rps") else { throw yaml.error(nil, "missing required field rps") }
            func checked(_ value: Double?, _ fields: YAMLFields, _ key: String) throws(ConfigError) -> Double {
                guard let value, (0...100_000).contains(value) else { throw fields.error(key, "must be a number from 0 to 100000") }
                return value
            }
            guard yaml.holdsMapping("rps"), let byName = try yaml.optionalFields("rps") else {
                return ["*": try checked(try yaml.optionalDouble("rps"), yaml, "rps")]
            }
            var rps: [String: Double] = [:]
            for key in byName.keys { rps[key] = try checked(try byName.optionalDouble(key), byName, key) }
            return rps
        }
        static let scrape: Field<Duration> = .duration(
            "scrape_interval", default: .seconds(15), max: .seconds(600), "how often the gateway's metrics are scraped")
        static let window: Field<Duration> = .duration(
            "window", default: .seconds(30), max: .seconds(600), "the counts' window; the agent reads one every window")
    }
    static let trafficSection = ConfigSection(
        "scenario.traffic", "The gateway's own requests: replay turns them into counts as its metrics would show them.", Traffic.rps,
        Traffic.scrape, Traffic.window)

    enum Phase {
        static let at: Field<Duration> = .duration("at", default: nil, max: longest, allowZero: true, "when the phase starts")
        static let p50: Field<Duration?> = .optionalDuration(
            "p50", none: "as before (first: 500ms)", max: longest, "the median answer time")
        static let p99: Field<Duration?> = .optionalDuration(
            "p99", none: "as before (first: 2s)", max: longest, "the 99th percentile; not below p50")
        static let latencySection = ConfigSection("phase.latency", "How long answers take in the phase.", p50, p99)
        static let latency: Field<YAMLFields?> = .section("latency", latencySection, "answer times (none: as before)")
        static let rate: Field<Double?> = .optionalNumber(
            "rate", none: "as before (first: 0)", in: 0...1, "the share of probes that fail")
        static let failureClass: Field<String?> = .optionalText(
            "class", none: "as before (first: http_5xx)", choices: failureClasses.map(\.rawValue), "how a failing probe fails")
        static let failureSection = ConfigSection("phase.failure", "How probes fail in the phase.", rate, failureClass)
        static let failure: Field<YAMLFields?> = .section("failure", failureSection, "failures (none: as before; the first phase: none)")
    }

    static let phaseSection = ConfigSection(
        "phase", "One stretch of a provider's (or model's) behaviour; it changes only the fields it names.", Phase.at, Phase.latency,
        Phase.failure)
    static let ownPhases: Field<[YAMLFields]> = .list(
        "phases", phaseSection, none: "no failures, p50 500ms", "the provider's own phases (its models follow them)")
    static let modelsSection = ConfigSection(
        "scenario.providers.<provider>.models", "Phases of single models; before a model's first phase it behaves as its provider.",
        entries: .init(key: "a model id; its value is a list of phases", value: phaseSection))
    static let byModel: Field<YAMLFields?> = .section("models", modelsSection, required: true, "phases per model")
    static let providerSection = ConfigSection(
        "scenario.providers.<provider>", "A provider whose models behave apart (instead of a plain list of phases).", ownPhases, byModel)
    static let providersSection = ConfigSection(
        "scenario.providers", "Each provider's behaviour.",
        entries: .init(key: "a provider; its value is a list of phases (the first at 0s), or a mapping", value: providerSection))

    enum Network {
        static let at: Field<Duration> = .duration(
            "at", default: nil, max: longest, allowZero: true, "when the change happens (the first at 0s)")
        static let up: Field<Bool> = .boolean("up", "whether the agent's network works from then on")
    }
    static let networkSection = ConfigSection("scenario.agent_network[]", "A change of the agent's own network.", Network.at, Network.up)

    enum Expected {
        static let action = Field<String>(
            FieldDescription(
                name: "action", type: "string", defaultText: "required", bounds: "failover, restore", meaning: "the action expected")
        ) { yaml throws(ConfigError) in
            let text = try yaml.string("action")
            guard Scenario.ExpectedAction.Action(rawValue: text) != nil else {
                throw yaml.error("action", "'\(text)' is not failover or restore")
            }
            return text
        }
        static let provider: Field<String> = .text("provider", "the provider it is about (one of the scenario's)")
        static let model: Field<String?> = .optionalText("model", none: "the whole provider", "the model it is about")
        static let notBefore: Field<Duration> = .duration(
            "not_before", default: .zero, max: longest, allowZero: true, "it must not happen earlier")
        static let by = Field<Duration?>(
            FieldDescription(
                name: "by", type: "duration", defaultText: "the scenario's end", bounds: "not before not_before",
                meaning: "it must have happened by then")
        ) { yaml throws(ConfigError) in yaml.has("by") ? try yaml.duration("by", max: longest) : nil }
    }
    static let actionSection = ConfigSection(
        "scenario.expect.actions[]", "One action replay must see, in order.", Expected.action, Expected.provider, Expected.model,
        Expected.notBefore, Expected.by)
    static let actions: Field<[YAMLFields]> = .list("actions", actionSection, none: "no action at all", "the actions, in order")
    static let expectSection = ConfigSection("scenario.expect", "What replay checks.", actions)

    /// A scenario file's fields.
    public static let section = ConfigSection(
        "scenario", "One scenario file (docs/scenarios.md): providers' behaviour over time, and what the agent must do.", Top.name,
        Top.description, Top.seed, Top.duration, Top.providers, Top.agentNetwork, Top.expect, Top.traffic)

    public static func parse(_ file: YAMLFields) throws(ConfigError) -> Scenario {
        let yaml = try file.conform(to: section)
        let duration = try yaml.read(Top.duration).seconds
        guard duration > 0 else { throw yaml.error("duration", "must be more than 0") }
        let providerFields = try yaml.require(Top.providers)
        var providers: [(name: String, phases: [Scenario.Phase])] = []
        var models: [(provider: String, model: String, phases: [Scenario.Phase])] = []
        for provider in providerFields.keys {
            // A list of phases, or `{phases: [...], models: {<model id>: [phases]}}`.
            if providerFields.holdsMapping(provider), let fields = try providerFields.optionalFields(provider) {
                let entry = try fields.conform(to: providerSection)
                // Without `phases`, the provider itself behaves as the defaults say (no failures, p50 500 ms).
                let own = try entry.read(ownPhases)
                if entry.has("phases"), own.isEmpty { throw entry.error("phases", "needs a list of phases") }
                let byModel = try entry.require(Self.byModel)
                if byModel.keys.isEmpty { throw entry.error("models", "needs `models:` with at least one model and its phases") }
                for model in byModel.keys {
                    guard let list = try byModel.optionalList(model), !list.isEmpty else {
                        throw byModel.error(model, "needs a list of phases")
                    }
                    models.append((provider, model, try phases(list, duration: duration, firstAtZero: false)))
                }
                providers.append((provider, try phases(own, duration: duration)))
                continue
            }
            guard let list = try providerFields.optionalList(provider), !list.isEmpty else {
                throw providerFields.error(provider, "needs a list of phases")
            }
            providers.append((provider, try phases(list, duration: duration)))
        }
        var network: [(at: Double, up: Bool)] = []
        for (index, item) in try yaml.read(Top.agentNetwork).enumerated() {
            let at = try item.read(Network.at).seconds
            let up = try item.read(Network.up)
            if index == 0, at != 0 { throw item.error("at", "the first entry must be at 0s") }
            if let last = network.last, at <= last.at { throw item.error("at", "entries must be in increasing time order") }
            network.append((at, up))
        }
        var expected: [Scenario.ExpectedAction]?
        if let expect = try yaml.read(Top.expect) {
            expected = try expect.read(actions).map { item throws(ConfigError) in
                try action(item, providers: Set(providers.map(\.name)), duration: duration)
            }
        }
        var traffic: Scenario.Traffic?
        if let section = try yaml.read(Top.traffic) {
            let rps = try section.read(Traffic.rps)
            let names = Set(providers.map(\.name))
            for key in rps.keys where key != "*" && !names.contains(Subject.provider(key)) {
                throw section.error("rps", "'\(key)' is not among the scenario's providers")
            }
            traffic = Scenario.Traffic(
                rps: rps, scrapeInterval: try section.read(Traffic.scrape).seconds, window: try section.read(Traffic.window).seconds)
        }
        var scenario = Scenario(
            name: try yaml.read(Top.name), description: try yaml.read(Top.description), seed: UInt64(try yaml.read(Top.seed)),
            duration: duration, providers: providers, models: models, agentNetwork: network, expectedActions: expected)
        scenario.traffic = traffic
        return scenario
    }

    static let failureClasses: [ProbeClass] = ProbeClass.allCases.filter { $0 != .ok && $0 != .slow }

    /// A model's phases may start after 0s: before its first, it behaves as its provider.
    private static func phases(_ list: [YAMLFields], duration: Double, firstAtZero: Bool = true) throws(ConfigError) -> [Scenario.Phase] {
        var phases: [Scenario.Phase] = []
        for unchecked in list {
            let item = try unchecked.conform(to: phaseSection)
            var phase = Scenario.Phase(at: try item.read(Phase.at).seconds)
            if firstAtZero, phases.isEmpty, phase.at != 0 { throw item.error("at", "the first phase must start at 0s") }
            if let last = phases.last, phase.at <= last.at { throw item.error("at", "phases must be in increasing time order") }
            if phase.at > duration { throw item.error("at", "is after the scenario's duration") }
            if let latency = try item.read(Phase.latency) {
                phase.latencyP50 = try latency.read(Phase.p50)?.seconds
                phase.latencyP99 = try latency.read(Phase.p99)?.seconds
                if let p50 = phase.latencyP50, let p99 = phase.latencyP99, p99 < p50 { throw latency.error("p99", "must not be below p50") }
            }
            if let failure = try item.read(Phase.failure) {
                phase.failureRate = try failure.read(Phase.rate)
                phase.failureClass = try failure.read(Phase.failureClass).flatMap(ProbeClass.init(rawValue:))
            }
            phases.append(phase)
        }
        return phases
    }

    private static func action(_ item: YAMLFields, providers: Set<String>, duration: Double) throws(ConfigError) -> Scenario.ExpectedAction
    {
        let action = Scenario.ExpectedAction.Action(rawValue: try item.read(Expected.action))!
        let provider = try item.read(Expected.provider)
        guard providers.contains(provider) else { throw item.error("provider", "'\(provider)' is not among the scenario's providers") }
        let notBefore = try item.read(Expected.notBefore).seconds
        let by = try item.read(Expected.by)?.seconds ?? duration.rounded(.up)
        guard by >= notBefore else { throw item.error("by", "is before not_before") }
        return Scenario.ExpectedAction(
            action: action, provider: provider, model: try item.read(Expected.model), notBefore: notBefore, by: by)
    }
}
