import AgentCore
import Health
import ProbeResults
import Scenarios
import Selection

/// Runs the agent's real core (``AgentCore``: the health machine, modes, pause, the cap on
/// failovers per hour, and the probe cadence within the probe cap, as the running agent has them)
/// against a scenario in virtual time: no network, no clock, the same decisions every run. It
/// feeds the core the events ``AgentLoop`` does, as the leader: `.tick` (the core answers with the
/// probes to start), `.probed` when a probe ends (its outcome drawn from the scenario when it
/// started) and `.traffic`; it carries out no command, and counts a failover or restore when the
/// core executes or proposes it.
public enum Replay {
    public struct Options: Sendable {
        public var policy: HealthPolicy
        /// How failovers are carried out (`propose` or `perform`); restores are performed.
        public var mode: String
        /// The agent's cap; past it the core only pages.
        public var maxFailoversPerHour: Int
        /// One `probe` line per probe.
        public var verbose: Bool
        /// A probe with no answer ends after this many seconds (class `timeout`).
        public var probeTimeout: Double
        /// Plans what a failover would change (from an empty override: replay has no secret),
        /// avoiding replacements whose probes do not show health. A failover of a model no feature
        /// uses writes nothing, so neither it nor its restore is an action.
        /// nil: no plan, every failover counts.
        public var planner: Planner?
        /// The targets the plan is for.
        public var targets: [String]
        /// The probes: each endpoint's name and subject. nil: one per provider and one per model the
        /// scenario gives a behaviour of its own.
        public var endpoints: [(name: String, subject: String)]?
        /// Seconds added to endpoints' steady intervals (the probe budget).
        public var stretch: [String: Double]

        public init(
            policy: HealthPolicy = HealthPolicy(), mode: String = "propose", maxFailoversPerHour: Int = 3, verbose: Bool = false,
            probeTimeout: Double = 10, planner: Planner? = nil, targets: [String] = [],
            endpoints: [(name: String, subject: String)]? = nil, stretch: [String: Double] = [:]
        ) {
            self.policy = policy
            self.mode = mode
            self.maxFailoversPerHour = maxFailoversPerHour
            self.verbose = verbose
            self.probeTimeout = probeTimeout
            self.planner = planner
            self.targets = targets
            self.endpoints = endpoints
            self.stretch = stretch
        }

        func overrideJSON(failing: [String], avoiding unhealthy: Set<String>) -> String {
            planner?.plan(current: ModelOverride(), failing: Set(failing), avoid: unhealthy).override.json ?? "{}"
        }

        /// Subjects whose failover writes nothing (``Planner/whyFailoverIsEmpty(_:)``): never an action.
        func emptyFailovers(_ subjects: [String]) -> [String: String] { planner?.emptyFailovers(subjects) ?? [:] }
    }

    public struct Report: Sendable {
        public var probesByProvider: [String: Int] = [:]
        /// Probe starts per minute, as the cap counts them.
        public var starts = ProbeTally()
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
            return
                #"{"event":"summary","probes":\#(probes),"failovers":\#(actions.filter { $0.action == .failover }.count),"#
                + #""restores":\#(actions.filter { $0.action == .restore }.count),"#
                + #""expect":"\#(violations == nil ? "none" : passed ? "pass" : "fail")","violations":[\#(violationList)],"#
                + #""probes_per_hour":{\#(counts.joined(separator: ","))}}"#
        }
    }

    /// A probe under way, and what it comes to (drawn from the scenario when it starts).
    struct InFlight {
        var endpoint: String
        var subject: String
        var startedAt: Double
        var outcome: OutcomeSampler.Outcome
        var endsAt: Double { startedAt + outcome.duration }
        /// The outcome as a prober reports it: an answer (a status) exactly when a first byte came.
        var result: ProbeResult {
            ProbeResult(
                provider: Subject.provider(subject), probe: endpoint, resultClass: outcome.resultClass,
                status: outcome.ttfbMs.map { _ in outcome.resultClass == .ok ? 200 : 500 }, ttfbMs: outcome.ttfbMs ?? 0,
                totalMs: outcome.duration * 1000)
        }
    }

    /// The probe that ends next: the earliest; at the same moment by endpoint name, then in the order they started.
    static func nextEnding(_ inFlight: [InFlight]) -> Int? {
        inFlight.indices.min { (inFlight[$0].endsAt, inFlight[$0].endpoint, $0) < (inFlight[$1].endsAt, inFlight[$1].endpoint, $1) }
    }

    public struct Action: Sendable, Equatable {
        public var action: Scenario.ExpectedAction.Action
        public var provider: String
        public var t: Double

        public init(action: Scenario.ExpectedAction.Action, provider: String, t: Double) {
            self.action = action
            self.provider = provider
            self.t = t
        }
    }

    /// Replays `scenario`, handing each JSON line to `emit` as it happens; the summary line last.
    public static func run(_ scenario: Scenario, options: Options, emit: (String) -> Void) -> Report {
        let policy = options.policy
        // The core needs a target to act on; the plan names the real ones when a config gives them.
        var settings = AgentCore.Settings(
            targets: [(name: "replay", mode: ActionMode(rawValue: options.mode) ?? .propose)],
            maxFailoversPerHour: options.maxFailoversPerHour)
        let endpoints = options.endpoints ?? scenario.subjects.map { ($0, $0) }
        settings.emptyFailovers = options.emptyFailovers(endpoints.map(\.subject))
        settings.trafficStaleAfter = scenario.traffic.map { 2 * ($0.scrapeInterval + $0.window) }
        settings.trafficWindow = scenario.traffic?.window
        // The core keeps the probe cadence and the cap, as in the running agent; replay draws each
        // probe's outcome from the scenario and tells the core when it ends.
        var core = AgentCore(settings: settings, endpoints: endpoints, policy: policy, stretch: options.stretch)
        var sampler = OutcomeSampler(scenario: scenario, probeTimeout: options.probeTimeout, latencyBudget: policy.latencyCeiling)
        var traffic = TrafficSampler(scenario: scenario)
        var nextReading = scenario.traffic?.window
        var report = Report(duration: scenario.duration)
        var failing: [String] = []
        let subjects = Dictionary(endpoints.map { ($0.name, $0.subject) }, uniquingKeysWith: { a, _ in a })
        var inFlight: [InFlight] = []
        /// The lines and actions of what the core decided at `t`.
        func handle(_ commands: [AgentCommand], at t: Double, cannotBefore: Set<String>) {
            for subject in core.cannotFailOver.subtracting(cannotBefore).sorted() {
                emit(EventLine.cannotFailOver(subject, at: t, why: settings.emptyFailovers[subject] ?? ""))
            }
            for decision in core.lastDecisions {
                switch decision {
                case .failover, .restore: break
                default: emit(EventLine.json(decision))
                }
            }
            for command in commands {
                switch command {
                case .execute(let kind, let acted, _, _), .propose(let kind, let acted, _):
                    if kind == .failover {
                        if !failing.contains(acted) { failing.append(acted) }
                        report.actions.append(Action(action: .failover, provider: acted, t: t))
                        let json = options.overrideJSON(failing: failing, avoiding: core.monitor.unhealthy)
                        emit(EventLine.failover(acted, at: t, mode: options.mode, targets: options.targets, overrideJSON: json))
                    } else {
                        failing.removeAll { $0 == acted }
                        report.actions.append(Action(action: .restore, provider: acted, t: t))
                        emit(EventLine.restore(acted, at: t, targets: options.targets))
                    }
                case .alert(let alert) where alert.dedupKey == "failover-agent/traffic":
                    emit(EventLine.traffic(trusted: alert.resolve, at: t, summary: alert.summary))
                default: break  // pages, logs and the live loop's I/O do not change a replay
                }
            }
        }
        /// One query of the gateway's metrics: every probed subject's window of counts.
        func readTraffic(at t: Double) {
            guard var sampler = traffic, let settings = scenario.traffic else { return }
            var windows: [String: TrafficCount] = [:]
            var reachable = true
            for subject in Set(endpoints.map(\.subject)).sorted() {
                guard let window = sampler.window(of: subject, at: t, routed: !core.monitor.isDown(subject)) else {
                    reachable = false
                    continue
                }
                if window.requests > 0 { windows[subject] = TrafficCount(requests: window.requests, failures: window.failures) }
            }
            traffic = sampler
            let reading: TrafficTrust.Reading =
                reachable ? .answered(windows, latestSample: t - settings.scrapeInterval) : .failed("unreachable")
            let cannot = core.cannotFailOver
            handle(core.handle(.traffic(reading), at: t), at: t, cannotBefore: cannot)
        }
        // Replay is the leader, as the running agent acting: it feeds the core the events the loop does.
        _ = core.handle(.leadership(true, leaderPaused: nil), at: 0)
        while true {
            let ending = nextEnding(inFlight)
            // Probes end before others start at the same moment, so a start sees the latest health.
            let next = min(ending.map { inFlight[$0].endsAt } ?? .infinity, core.streams.nextStart)
            if let reading = nextReading, reading <= scenario.duration, reading <= next {
                readTraffic(at: reading)
                nextReading = reading + (scenario.traffic?.window ?? .infinity)
                continue
            }
            guard next <= scenario.duration else { break }
            if let ending, inFlight[ending].endsAt == next {
                let probe = inFlight.remove(at: ending)
                let (subject, outcome) = (probe.subject, probe.outcome)
                report.probesByProvider[Subject.provider(subject), default: 0] += 1
                if options.verbose {
                    emit(
                        #"{"t":\#(JSONText.number(next)),"event":"probe",\#(EventLine.about(subject)),"#
                            + #""endpoint":"\#(probe.endpoint)","started":\#(JSONText.number(probe.startedAt)),"#
                            + #""class":"\#(outcome.resultClass.rawValue)","ttfb_ms":\#(outcome.ttfbMs.map(JSONText.number) ?? "null")}"#
                    )
                }
                let cannot = core.cannotFailOver
                let event = AgentCore.Event.probed(endpoint: probe.endpoint, result: probe.result, startedAt: probe.startedAt)
                handle(core.handle(event, at: next), at: next, cannotBefore: cannot)
                continue
            }
            for case .probe(let names) in core.handle(.tick, at: next) {
                for name in names {
                    let subject = subjects[name] ?? name
                    report.starts.record(endpoint: name, provider: Subject.provider(subject), at: next)
                    inFlight.append(
                        InFlight(
                            endpoint: name, subject: subject, startedAt: next, outcome: sampler.outcome(of: subject, stream: name, at: next)
                        ))
                }
            }
        }
        if let expected = scenario.expectedActions {
            report.violations = ExpectationCheck.violations(expected: expected, actions: report.actions)
        }
        emit(report.summaryLine)
        return report
    }
}
