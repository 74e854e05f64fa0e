import AgentCore
import Health
import ProbeResults
import Scenarios
import Selection

/// Runs the agent's real core (``AgentCore``: the health machine, modes, pause, the cap on
/// failovers per hour) and its scheduler against a scenario in virtual time: no network, no clock,
/// the same decisions every run. A failover or restore is counted when the core executes or
/// proposes it.
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

    /// One endpoint's probes: those in flight and when the next is due.
    struct ProbeStream {
        var subject: String
        var stretch = 0.0
        var inFlight: [(startedAt: Double, outcome: OutcomeSampler.Outcome)] = []
        var lastStart = -Double.infinity
        var nextStart: Double
    }

    enum Event {
        case start(at: Double)
        case completion(index: Int, at: Double)
        var at: Double {
            switch self {
            case .start(let at), .completion(_, let at): at
            }
        }
    }

    /// The earliest event of all streams; completions before starts at the same moment, so a
    /// start sees the latest health. A start waits for the probe cap (``ProbeCap``); of starts at
    /// the same moment, those `urgent` says are in question go first, then by name, for a stable order.
    static func nextEvent(
        _ streams: [String: ProbeStream], maxInFlight: Int, cap: ProbeCap, urgent: (ProbeStream, Double) -> Bool
    ) -> (String, Event)? {
        var best: (String, Event)?
        var bestUrgent = false
        func earlier(_ a: (String, Event), _ aUrgent: Bool, than b: (String, Event)?) -> Bool {
            guard let b else { return true }
            if a.1.at != b.1.at { return a.1.at < b.1.at }
            switch (a.1, b.1) {
            case (.completion, .start): return true
            case (.start, .completion): return false
            case (.start, .start) where aUrgent != bestUrgent: return aUrgent
            default: return a.0 < b.0
            }
        }
        for (name, stream) in streams {
            for (index, probe) in stream.inFlight.enumerated() {
                let candidate = (name, Event.completion(index: index, at: probe.startedAt + probe.outcome.duration))
                if earlier(candidate, false, than: best) { (best, bestUrgent) = (candidate, false) }
            }
            if stream.inFlight.count < maxInFlight {
                let at = max(stream.nextStart, cap.earliest(endpoint: name, provider: Subject.provider(stream.subject)))
                let isUrgent = urgent(stream, at)
                let candidate = (name, Event.start(at: at))
                if earlier(candidate, isUrgent, than: best) { (best, bestUrgent) = (candidate, isUrgent) }
            }
        }
        return best
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
        var core = AgentCore(settings: settings, endpoints: endpoints, policy: policy)
        let scheduler = ProbeScheduler(policy: policy)
        var sampler = OutcomeSampler(scenario: scenario, probeTimeout: options.probeTimeout, latencyBudget: policy.latencyCeiling)
        var traffic = TrafficSampler(scenario: scenario)
        var nextReading = scenario.traffic?.window
        var report = Report(duration: scenario.duration)
        var failing: [String] = []
        let subjects = Dictionary(endpoints.map { ($0.name, $0.subject) }, uniquingKeysWith: { a, _ in a })
        var streams = Dictionary(
            uniqueKeysWithValues: scheduler.firstProbes(endpoints.map(\.name)).map {
                ($0.provider, ProbeStream(subject: subjects[$0.provider]!, stretch: options.stretch[$0.provider] ?? 0, nextStart: $0.at))
            })
        func next(_ stream: ProbeStream, lastStart: Double, now: Double) -> Double {
            scheduler.nextStart(
                lastStart: lastStart, now: now, health: core.monitor.machines[stream.subject], stretch: options.stretch[stream.subject] ?? 0
            )
        }
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
            handle(core.observeTraffic(reading, at: t), at: t, cannotBefore: cannot)
        }
        var cap = ProbeCap(policy: policy)
        func urgent(_ stream: ProbeStream, _ at: Double) -> Bool { scheduler.inQuestion(core.monitor.machines[stream.subject], at: at) }
        while true {
            let event = nextEvent(streams, maxInFlight: policy.maxInFlight, cap: cap, urgent: urgent)
            if let reading = nextReading, reading <= scenario.duration, reading <= event?.1.at ?? .infinity {
                readTraffic(at: reading)
                nextReading = reading + (scenario.traffic?.window ?? .infinity)
                continue
            }
            guard let (name, event) = event, event.at <= scenario.duration else { break }
            var stream = streams[name]!
            let subject = stream.subject
            switch event {
            case .start(let at):
                cap.started(endpoint: name, provider: Subject.provider(subject), at: at)
                report.starts.record(endpoint: name, provider: Subject.provider(subject), at: at)
                stream.inFlight.append((at, sampler.outcome(of: subject, stream: name, at: at)))
                stream.lastStart = at
                stream.nextStart = next(stream, lastStart: at, now: at)
            case .completion(let index, let completedAt):
                let probe = stream.inFlight.remove(at: index)
                report.probesByProvider[Subject.provider(subject), default: 0] += 1
                let outcome = probe.outcome
                if options.verbose {
                    emit(
                        #"{"t":\#(JSONText.number(completedAt)),"event":"probe",\#(EventLine.about(subject)),"#
                            + #""endpoint":"\#(name)","started":\#(JSONText.number(probe.startedAt)),"#
                            + #""class":"\#(outcome.resultClass.rawValue)","ttfb_ms":\#(outcome.ttfbMs.map(JSONText.number) ?? "null")}"#
                    )
                }
                let observation = Observation(
                    provider: subject, resultClass: outcome.resultClass, ttfbMs: outcome.ttfbMs, startedAt: probe.startedAt,
                    completedAt: completedAt)
                let cannot = core.cannotFailOver
                handle(core.observe(observation), at: completedAt, cannotBefore: cannot)
                stream.nextStart = next(stream, lastStart: stream.lastStart, now: completedAt)
            }
            streams[name] = stream
        }
        if let expected = scenario.expectedActions {
            report.violations = ExpectationCheck.violations(expected: expected, actions: report.actions)
        }
        emit(report.summaryLine)
        return report
    }
}
