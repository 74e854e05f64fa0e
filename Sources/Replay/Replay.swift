import Health
import ProbeResults
import Scenarios

/// Runs the agent's real scheduler and health machine against a scenario in virtual time:
/// no network, no clock, the same decisions every run.
public enum Replay {
    public struct Options: Sendable {
        public var policy: HealthPolicy
        /// The mode failover events report (`propose` or `perform`).
        public var mode: String
        /// One `probe` line per probe.
        public var verbose: Bool
        /// A probe with no answer ends after this many seconds (class `timeout`).
        public var probeTimeout: Double
        /// What a failover would change: targets and the override JSON. Until the planner is wired
        /// in, no targets and an empty override.
        public var plan: @Sendable (_ provider: String, _ failing: [String]) -> (targets: [String], overrideJSON: String)

        public init(
            policy: HealthPolicy = HealthPolicy(), mode: String = "propose", verbose: Bool = false, probeTimeout: Double = 10,
            plan: @escaping @Sendable (String, [String]) -> (targets: [String], overrideJSON: String) = { _, _ in ([], "{}") }
        ) {
            self.policy = policy
            self.mode = mode
            self.verbose = verbose
            self.probeTimeout = probeTimeout
            self.plan = plan
        }
    }

    public struct Report: Sendable {
        public var probesByProvider: [String: Int] = [:]
        public var actions: [Action] = []
        /// nil when the scenario states no expectations.
        public var violations: [String]?
        public var duration: Double = 0

        public var probes: Int { probesByProvider.values.reduce(0, +) }
        public var passed: Bool { violations?.isEmpty ?? true }

        public func probesPerHour(_ provider: String) -> Double {
            Double(probesByProvider[provider] ?? 0) * 3600 / max(duration, 1)
        }

        /// The closing `summary` line.
        public var summaryLine: String {
            let counts = probesByProvider.keys.sorted().map { "\(JSONText.quote($0)):\(Int(probesPerHour($0).rounded()))" }
            let violationList = (violations ?? []).map(JSONText.quote).joined(separator: ",")
            return #"{"event":"summary","probes":\#(probes),"failovers":\#(actions.filter { $0.action == .failover }.count),"restores":\#(actions.filter { $0.action == .restore }.count),"expect":"\#(violations == nil ? "none" : passed ? "pass" : "fail")","violations":[\#(violationList)],"probes_per_hour":{\#(counts.joined(separator: ","))}}"#
        }
    }

    public struct Action: Sendable, Equatable {
        public var action: Scenario.ExpectedAction.Action
        public var provider: String
        public var t: Double
    }

    /// Replays `scenario`, handing each JSON line to `emit` as it happens; the summary line last.
    public static func run(_ scenario: Scenario, options: Options, emit: (String) -> Void) -> Report {
        let policy = options.policy
        var monitor = HealthMonitor(providers: scenario.providerNames, policy: policy)
        let scheduler = ProbeScheduler(policy: policy)
        var sampler = OutcomeSampler(scenario: scenario, probeTimeout: options.probeTimeout, latencyBudget: policy.latencyCeiling)
        var report = Report(duration: scenario.duration)
        var failing: Set<String> = []
        // One probe in flight per provider: (provider, started, outcome), completion = started + duration.
        var inFlight: [(provider: String, startedAt: Double, outcome: OutcomeSampler.Outcome)] = []
        for (provider, at) in scheduler.firstProbes(scenario.providerNames) {
            inFlight.append((provider, at, sampler.outcome(of: provider, at: at)))
        }
        while let index = inFlight.indices.min(by: { inFlight[$0].startedAt + inFlight[$0].outcome.duration < inFlight[$1].startedAt + inFlight[$1].outcome.duration }) {
            let probe = inFlight[index]
            let completedAt = probe.startedAt + probe.outcome.duration
            if completedAt > scenario.duration { inFlight.remove(at: index); continue }
            report.probesByProvider[probe.provider, default: 0] += 1
            let observation = Observation(provider: probe.provider, resultClass: probe.outcome.resultClass, ttfbMs: probe.outcome.ttfbMs, startedAt: probe.startedAt, completedAt: completedAt)
            if options.verbose {
                emit(#"{"t":\#(JSONText.number(completedAt)),"event":"probe","provider":\#(JSONText.quote(probe.provider)),"class":"\#(probe.outcome.resultClass.rawValue)","ttfb_ms":\#(probe.outcome.ttfbMs.map(JSONText.number) ?? "null")}"#)
            }
            for decision in monitor.observe(observation) {
                switch decision {
                case .failover(let provider, let t):
                    failing.insert(provider)
                    report.actions.append(Action(action: .failover, provider: provider, t: t))
                    let plan = options.plan(provider, failing.sorted())
                    emit(#"{"t":\#(JSONText.number(t)),"event":"failover","provider":\#(JSONText.quote(provider)),"mode":\#(JSONText.quote(options.mode)),"targets":[\#(plan.targets.map(JSONText.quote).joined(separator: ","))],"override":\#(plan.overrideJSON)}"#)
                case .restore(let provider, let t):
                    failing.remove(provider)
                    report.actions.append(Action(action: .restore, provider: provider, t: t))
                    emit(#"{"t":\#(JSONText.number(t)),"event":"restore","provider":\#(JSONText.quote(provider)),"targets":[\#(options.plan(provider, failing.sorted()).targets.map(JSONText.quote).joined(separator: ","))]}"#)
                default:
                    emit(EventLine.json(decision))
                }
            }
            let next = scheduler.next(startedAt: probe.startedAt, completedAt: completedAt, health: monitor.providers[probe.provider])
            inFlight[index] = (probe.provider, next, sampler.outcome(of: probe.provider, at: next))
        }
        if let expected = scenario.expectedActions {
            report.violations = ExpectationCheck.violations(expected: expected, actions: report.actions)
        }
        emit(report.summaryLine)
        return report
    }
}
