import ProbeResults

/// How each provider behaves over time, and what a correct agent does about it
/// (`scenarios/README.md`). Times are seconds from the scenario's start.
public struct Scenario: Sendable {
    public var name: String
    public var description: String?
    public var seed: UInt64
    public var duration: Double
    /// Providers in file order, each with its phases in time order.
    public var providers: [(name: String, phases: [Phase])]
    /// Models with a behaviour of their own (`providers.<p>.models.<id>`): their phases change, from
    /// their `at` on, only the fields they name on top of their provider's behaviour.
    public var models: [(provider: String, model: String, phases: [Phase])]
    /// The prober's own connectivity: `up` from `at` on. Up when empty.
    public var agentNetwork: [(at: Double, up: Bool)]
    /// nil when the scenario states no expectations; then no action counts as false.
    public var expectedActions: [ExpectedAction]?
    /// The gateway's own requests, as its metrics count them; nil: probes alone.
    public var traffic: Traffic?

    /// The gateway's request rate, and how its metrics reach the agent: scraped every
    /// `scrapeInterval`, read as counts over `window` every `window`.
    public struct Traffic: Sendable, Equatable {
        /// A provider or `provider/model` → requests a second to each subject on it; `*`: every provider.
        public var rps: [String: Double]
        public var scrapeInterval: Double
        public var window: Double

        public init(rps: [String: Double], scrapeInterval: Double = 15, window: Double = 30) {
            self.rps = rps
            self.scrapeInterval = scrapeInterval
            self.window = window
        }

        /// Requests a second the gateway sends `subject`: its own rate, else its provider's, else `*`'s.
        public func rps(of subject: String) -> Double { rps[subject] ?? rps[Subject.provider(subject)] ?? rps["*"] ?? 0 }
    }

    public init(
        name: String, description: String? = nil, seed: UInt64, duration: Double, providers: [(name: String, phases: [Phase])],
        models: [(provider: String, model: String, phases: [Phase])] = [], agentNetwork: [(at: Double, up: Bool)] = [],
        expectedActions: [ExpectedAction]? = nil
    ) {
        self.name = name
        self.description = description
        self.seed = seed
        self.duration = duration
        self.providers = providers
        self.models = models
        self.agentNetwork = agentNetwork
        self.expectedActions = expectedActions
    }

    public var providerNames: [String] { providers.map(\.name) }

    /// What the scenario describes, as subjects (``Subject``): every provider, then every model with
    /// a behaviour of its own.
    public var subjects: [String] { providerNames + models.map { Subject.key(provider: $0.provider, model: $0.model) } }

    /// A phase changes only the fields it names.
    public struct Phase: Sendable, Equatable {
        public var at: Double
        public var latencyP50: Double?
        public var latencyP99: Double?
        public var failureRate: Double?
        public var failureClass: ProbeClass?

        public init(
            at: Double, latencyP50: Double? = nil, latencyP99: Double? = nil, failureRate: Double? = nil, failureClass: ProbeClass? = nil
        ) {
            self.at = at
            self.latencyP50 = latencyP50
            self.latencyP99 = latencyP99
            self.failureRate = failureRate
            self.failureClass = failureClass
        }
    }

    /// A provider's behaviour at one moment, all fields resolved.
    public struct Behaviour: Sendable, Equatable {
        public var latencyP50: Double
        public var latencyP99: Double
        public var failureRate: Double
        public var failureClass: ProbeClass

        public init(latencyP50: Double, latencyP99: Double, failureRate: Double, failureClass: ProbeClass) {
            self.latencyP50 = latencyP50
            self.latencyP99 = latencyP99
            self.failureRate = failureRate
            self.failureClass = failureClass
        }
    }

    public struct ExpectedAction: Sendable, Equatable {
        public enum Action: String, Sendable { case failover, restore }
        public var action: Action
        public var provider: String
        /// nil: any action for the provider, whole or one of its models, meets the expectation.
        public var model: String?
        public var notBefore: Double
        public var by: Double

        /// The subject the expectation names: the provider, or the model on it.
        public var subject: String { Subject.key(provider: provider, model: model) }

        /// Whether an action of `kind` on `subject` at `t` meets this expectation: the same
        /// provider, the same model when one is named, inside the time range.
        public func isMet(by kind: Action, on subject: String, at t: Double) -> Bool {
            kind == action && names(subject) && (notBefore...by).contains(t)
        }

        /// Whether `subject` is what this expectation is about: its provider, or (when a model is
        /// named) that model; without a model, the provider's models too.
        public func names(_ subject: String) -> Bool {
            Subject.provider(subject) == provider && (model == nil || model == Subject.model(subject))
        }

        public init(action: Action, provider: String, model: String? = nil, notBefore: Double, by: Double) {
            self.action = action
            self.provider = provider
            self.model = model
            self.notBefore = notBefore
            self.by = by
        }
    }

    /// The behaviour of a subject (a provider, or a model on it) at time `t`.
    public func behaviour(of subject: String, at t: Double) -> Behaviour? {
        let provider = Subject.provider(subject)
        guard let phases = providers.first(where: { $0.name == provider })?.phases else { return nil }
        var current = Behaviour(latencyP50: 0.5, latencyP99: 2, failureRate: 0, failureClass: .http5xx)
        var merged = phases
        if let model = Subject.model(subject), let own = models.first(where: { $0.provider == provider && $0.model == model })?.phases {
            // The model's phases overlay its provider's, in time order (the model's last on a tie).
            merged = (phases + own).enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        }
        for phase in merged where phase.at <= t {
            current.latencyP50 = phase.latencyP50 ?? current.latencyP50
            current.latencyP99 = phase.latencyP99 ?? current.latencyP99
            current.failureRate = phase.failureRate ?? current.failureRate
            current.failureClass = phase.failureClass ?? current.failureClass
        }
        return current
    }

    /// Whether the prober's network is up at time `t`.
    public func networkUp(at t: Double) -> Bool {
        agentNetwork.last { $0.at <= t }?.up ?? true
    }
}
