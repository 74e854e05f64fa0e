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
    /// The prober's own connectivity: `up` from `at` on. Up when empty.
    public var agentNetwork: [(at: Double, up: Bool)]
    /// nil when the scenario states no expectations; then no action counts as false.
    public var expectedActions: [ExpectedAction]?

    public init(
        name: String, description: String? = nil, seed: UInt64, duration: Double, providers: [(name: String, phases: [Phase])],
        agentNetwork: [(at: Double, up: Bool)] = [], expectedActions: [ExpectedAction]? = nil
    ) {
        self.name = name
        self.description = description
        self.seed = seed
        self.duration = duration
        self.providers = providers
        self.agentNetwork = agentNetwork
        self.expectedActions = expectedActions
    }

    public var providerNames: [String] { providers.map(\.name) }

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
        public var notBefore: Double
        public var by: Double

        public init(action: Action, provider: String, notBefore: Double, by: Double) {
            self.action = action
            self.provider = provider
            self.notBefore = notBefore
            self.by = by
        }
    }

    /// The behaviour of `provider` at time `t`.
    public func behaviour(of provider: String, at t: Double) -> Behaviour? {
        guard let phases = providers.first(where: { $0.name == provider })?.phases else { return nil }
        var current = Behaviour(latencyP50: 0.5, latencyP99: 2, failureRate: 0, failureClass: .http5xx)
        for phase in phases where phase.at <= t {
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
