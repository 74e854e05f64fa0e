import ProbeResults

/// One machine per probed subject (a provider, or one model on it: ``Subject``), the verdicts
/// they add up to, and the blind guard: when most providers fail at the same moment without an
/// HTTP answer (and the control probe too, when one is configured), the prober's own network is the
/// likelier fault, so nothing changes state until that clears.
///
/// Verdicts: a model's machine fails that model over; when more than half of a provider's probed
/// models are failed over at once (or the provider's own model-less probe trips), the provider is
/// failed over instead, and its models' own failovers are absorbed into it. While the others are
/// still suspect, so that a provider verdict may follow, a model's failover is held, so one
/// provider outage is one action. When the provider clears, models still failing get their own
/// failover first, then the provider is restored.
public struct HealthMonitor: Sendable {
    public let policy: HealthPolicy
    /// Subject → its machine.
    public private(set) var machines: [String: ProviderHealth]
    public private(set) var isBlind = false
    /// Providers failed over as a whole because most of their models were (no model-less probe).
    public private(set) var majorityDown: Set<String> = []
    /// Model subjects whose failover was absorbed into their provider's.
    public private(set) var absorbed: Set<String> = []
    /// Model subjects whose failover waits: their provider's other models are suspect.
    public private(set) var held: Set<String> = []
    /// Provider → its model subjects.
    private let modelsOf: [String: [String]]
    /// Providers some subject is on, sorted.
    public let providers: [String]
    /// Per provider (and control probe): when its latest result came, and whether it had no HTTP answer.
    private var latest: [String: (at: Double, transportFailure: Bool)] = [:]

    /// `subjects`: every provider and `provider/model` that has a probe.
    public init(subjects: [String], policy: HealthPolicy) {
        self.policy = policy
        machines = Dictionary(subjects.map { ($0, ProviderHealth(provider: $0, policy: policy)) }, uniquingKeysWith: { a, _ in a })
        modelsOf = Dictionary(grouping: Set(subjects).filter { Subject.model($0) != nil }.sorted(), by: Subject.provider)
        providers = Set(subjects.map(Subject.provider)).sorted()
    }

    /// A subject's machine state; for a provider probed only through its models, `failing` while it
    /// is failed over as a whole, else the worst of `suspect` or `healthy` among its models.
    public func state(of subject: String) -> HealthState? {
        if let machine = machines[subject] { return machine.state }
        guard let models = modelsOf[subject] else { return nil }
        if majorityDown.contains(subject) { return .failing }
        return models.contains { machines[$0]?.state != .healthy } ? .suspect : .healthy
    }

    /// Whether some probe judges `subject` (its own, or its models' for a provider).
    public func watches(_ subject: String) -> Bool { machines[subject] != nil || modelsOf[subject] != nil }

    /// Whether a subject is failed over now, by its own verdict or its provider's.
    public func isDown(_ subject: String) -> Bool {
        providerDown(Subject.provider(subject)) || (Subject.model(subject) != nil && failedOver(subject))
    }

    /// Subjects whose probes do not show health now, never chosen as replacements: failed over,
    /// recovering, a broken probe, or a suspicion resting on two failures in a row (one noisy
    /// failure is not enough to pass a healthy model over).
    public var unhealthy: Set<String> {
        var subjects = Set(
            machines.filter { _, machine in
                machine.brokenProbe != nil || machine.state == .failing || machine.state == .recovering
                    || (machine.state == .suspect && machine.consecutiveFailures >= 2)
            }.keys)
        subjects.formUnion(majorityDown)
        return subjects
    }

    /// Subjects this agent has seen healthy: three probe successes in a row, no broken probe. A
    /// subject not probed yet (a new leader's first seconds) is not among them.
    public var provenHealthy: Set<String> {
        Set(
            machines.filter { _, machine in machine.state == .healthy && machine.brokenProbe == nil && machine.consecutiveSuccesses >= 3 }
                .keys)
    }

    /// Subjects failed over now whose failover was neither absorbed nor is held, for a new leader
    /// to compare with what it owns.
    public var failedOverSubjects: [String] {
        var subjects = machines.keys.filter {
            failedOver($0) && !absorbed.contains($0) && !held.contains($0)
                && (Subject.model($0) == nil || !providerDown(Subject.provider($0)))
        }
        subjects += majorityDown
        return subjects.sorted()
    }

    public mutating func observe(_ observation: Observation) -> [HealthDecision] {
        let now = observation.completedAt
        latest[Subject.provider(observation.provider)] = (now, HealthPolicy.transportClasses.contains(observation.resultClass))
        var decisions = updateBlindness(now: now)
        guard !isBlind, var machine = machines[observation.provider] else { return decisions }
        let raw = machine.observe(observation, policy: policy)
        machines[observation.provider] = machine
        for decision in raw { decisions += route(decision) }
        if !held.isEmpty { decisions += resolveHeld(Subject.provider(observation.provider), at: now) }
        return decisions
    }

    /// Feeds one window of the gateway's own traffic: subject → its requests and the failures among
    /// them (``ProviderHealth/observeTraffic(failures:of:window:endingAt:at:policy:)``). Nothing while blind.
    /// `end`: when the windows ended (the newest sample behind them); `window`: their length;
    /// `now`: when they were read.
    public mutating func observeTraffic(
        _ windows: [String: TrafficCount], window: Double, endingAt end: Double, at now: Double
    ) -> [HealthDecision] {
        guard !isBlind else { return [] }
        var decisions: [HealthDecision] = []
        for (subject, count) in windows.sorted(by: { $0.key < $1.key }) {
            guard var machine = machines[subject] else { continue }
            let raw = machine.observeTraffic(
                failures: count.failures, of: count.requests, window: window, endingAt: end, at: now, policy: policy)
            machines[subject] = machine
            for decision in raw { decisions += route(decision) }
            if !held.isEmpty { decisions += resolveHeld(Subject.provider(subject), at: now) }
        }
        return decisions
    }

    /// The traffic source is not evidence any more: every subject is judged on probes alone.
    public mutating func distrustTraffic() {
        for name in machines.keys { machines[name]!.distrustTraffic() }
    }

    /// After a restart: `subject` is failed over (its ownership record says so). See ``ProviderHealth/resumeFailedOver(at:)``.
    public mutating func resumeFailedOver(_ subject: String, at now: Double) -> [HealthDecision] {
        if machines[subject] != nil { return machines[subject]!.resumeFailedOver(at: now) }
        guard let models = modelsOf[subject] else { return [] }
        majorityDown.insert(subject)
        var decisions: [HealthDecision] = []
        for model in models where !failedOver(model) {
            absorbed.insert(model)
            decisions += machines[model]!.resumeFailedOver(at: now)
        }
        return decisions
    }

    /// Providers whose latest result, fresh within `blind_window`, had no HTTP answer.
    public func transportFailing(now: Double) -> [String] {
        providers.filter { name in
            guard let last = latest[name] else { return false }
            return last.transportFailure && now - last.at <= policy.blindWindow
        }
    }

    // MARK: - Verdicts

    private func failedOver(_ subject: String) -> Bool {
        machines[subject].map { $0.state == .failing || $0.state == .recovering } ?? false
    }

    /// A provider is down when its model-less probe is failed over, or when most of its models are.
    private func providerDown(_ provider: String) -> Bool {
        machines[provider] != nil ? failedOver(provider) : majorityDown.contains(provider)
    }

    /// More than half of a provider's probed models (two at least) are failed over.
    private func mostModelsDown(_ provider: String) -> Bool {
        guard let models = modelsOf[provider], models.count >= 2 else { return false }
        return models.filter(failedOver).count * 2 > models.count
    }

    /// More than half of a provider's probed models are failed over or suspect: a provider verdict may follow.
    private func mostModelsMayBeDown(_ provider: String) -> Bool {
        guard let models = modelsOf[provider], models.count >= 2 else { return false }
        return models.filter { failedOver($0) || machines[$0]?.state == .suspect }.count * 2 > models.count
    }

    private mutating func route(_ decision: HealthDecision) -> [HealthDecision] {
        switch decision {
        case .failover(let subject, _):
            let provider = Subject.provider(subject)
            guard Subject.model(subject) != nil else { return [decision] }
            if providerDown(provider) {
                absorbed.insert(subject)
                return []
            }
            guard machines[provider] == nil, mostModelsMayBeDown(provider) else { return [decision] }
            held.insert(subject)  // resolveHeld decides, once this observation's decisions are in
            return []
        case .restore(let subject, let at):
            let provider = Subject.provider(subject)
            if Subject.model(subject) == nil { return releasing(provider, at: at) + [decision] }
            if held.remove(subject) != nil { return [] }
            let own: [HealthDecision] = absorbed.remove(subject) == nil ? [decision] : []
            guard majorityDown.contains(provider), !mostModelsDown(provider) else { return own }
            majorityDown.remove(provider)
            return own + releasing(provider, at: at) + [.restore(provider: provider, at: at)]
        case .state(let subject, .recovering, .failing, let at)
        where absorbed.contains(subject) && !providerDown(Subject.provider(subject)):
            // An absorbed model relapses after its provider came back: it needs its own failover now.
            absorbed.remove(subject)
            return [decision, .failover(provider: subject, at: at)]
        default:
            return [decision]
        }
    }

    /// Held failovers of `provider`'s models: a provider failover once most of its models are
    /// down; their own failovers once that can no longer happen.
    private mutating func resolveHeld(_ provider: String, at now: Double) -> [HealthDecision] {
        let waiting = held.filter { Subject.provider($0) == provider }
        guard !waiting.isEmpty else { return [] }
        if mostModelsDown(provider) {
            held.subtract(waiting)
            absorbed.formUnion(waiting)
            majorityDown.insert(provider)
            return [.failover(provider: provider, at: now)]
        }
        guard !mostModelsMayBeDown(provider) else { return [] }
        held.subtract(waiting)
        return waiting.sorted().filter(failedOver).map { .failover(provider: $0, at: now) }
    }

    /// The provider comes back: its absorbed models still failing get failovers of their own;
    /// those recovering stay absorbed, so their restore is silent, unless they relapse.
    private mutating func releasing(_ provider: String, at now: Double) -> [HealthDecision] {
        var decisions: [HealthDecision] = []
        for model in modelsOf[provider] ?? [] where absorbed.contains(model) && machines[model]?.state != .recovering {
            absorbed.remove(model)
            if failedOver(model) { decisions.append(.failover(provider: model, at: now)) }
        }
        return decisions
    }

    private mutating func updateBlindness(now: Double) -> [HealthDecision] {
        let failing = transportFailing(now: now)
        let count = providers.count
        var blind = count >= 2 && Double(failing.count) > policy.blindQuorum * Double(count)
        if let control = policy.controlProvider {
            blind = blind && (latest[control].map { $0.transportFailure && now - $0.at <= policy.blindWindow } ?? false)
        }
        guard blind != isBlind else { return [] }
        isBlind = blind
        if blind { return [.blind(providers: failing, at: now)] }
        // Suspicions raised around the blind spell rest on tainted evidence: start them afresh.
        var decisions: [HealthDecision] = [.blindCleared(at: now)]
        for name in machines.keys.sorted() {
            decisions += machines[name]!.forgetSuspicion(at: now, policy: policy)
        }
        return decisions
    }
}
