import ControlSimulators
import ProbeResults
import Scenarios
import Selection
import Synchronization

/// The sandbox gateway's own traffic: the scenario's `traffic.rps` to each subject, each request
/// failing at the rate of its moment, counted as the gateway counts them
/// (`model_inferences_total` and `inference_request_duration_seconds`, with their real labels).
/// A subject no feature serves any more (failed over) gets no traffic. Counts advance when scraped.
final class GatewayTraffic: Sendable {
    private struct Key: Hashable {
        var engine: String
        var model: String
        var error: Bool
    }
    private struct State {
        var last = 0.0
        var counts: [Key: Double] = [:]
        var carry: [String: Double] = [:]
        var rng: SplitMix64
    }
    private let state: Mutex<State>
    private let scenario: Scenario
    private let traffic: Scenario.Traffic
    /// Subject → the engine and `model_name` its requests carry, and the models that route to it.
    private let routes: [String: (engine: String, model: String, models: Set<String>)]

    init?(scenario: Scenario, subjects: [String], catalog: ModelCatalog) {
        guard let traffic = scenario.traffic else { return nil }
        self.scenario = scenario
        self.traffic = traffic
        var routes: [String: (String, String, Set<String>)] = [:]
        for subject in subjects {
            let provider = Subject.provider(subject)
            let models = catalog.models.filter {
                $0.provider == provider && (Subject.model(subject) == nil || $0.id == Subject.model(subject))
            }
            guard let first = models.first else { continue }
            let engine = first.serving.modelClass == "anthropic" ? "anthropic-chat" : "litellm-chat"
            routes[subject] = (engine, first.serving.model ?? first.id, Set(models.map(\.id)))
        }
        self.routes = routes
        state = Mutex(State(rng: SplitMix64(seed: scenario.seed ^ 0x6761_7465)))
    }

    /// The exposition text at scenario time `t`; `served`: every model some feature uses now.
    func exposition(at t: Double, served: Set<String>) -> String {
        state.withLock { state in
            let start = state.last
            let span = max(0, t - start)
            state.last = max(state.last, t)
            for (subject, route) in routes.sorted(by: { $0.key < $1.key }) where !route.models.isDisjoint(with: served) {
                let exact = traffic.rps(of: subject) * span + (state.carry[subject] ?? 0)
                let requests = Int(exact)
                state.carry[subject] = exact - Double(requests)
                for index in 0..<requests {
                    let at = start + span * (Double(index) + 0.5) / Double(max(requests, 1))
                    let rate = scenario.behaviour(of: subject, at: at)?.failureRate ?? 0
                    let failed = state.rng.nextDouble() < rate
                    state.counts[Key(engine: route.engine, model: route.model, error: failed), default: 0] += 1
                }
            }
            var lines = [
                "# HELP model_inferences_total The total number of model inferences.", "# TYPE model_inferences_total counter",
            ]
            var histogram = [
                "# HELP inference_request_duration_seconds Duration of the inference request in seconds",
                "# TYPE inference_request_duration_seconds histogram",
            ]
            for (key, count) in state.counts.sorted(by: { "\($0.key.model)\($0.key.error)" < "\($1.key.model)\($1.key.error)" }) {
                let labels =
                    #"model_engine="\#(key.engine)",model_name="\#(key.model)",error="\#(key.error ? "yes" : "no")","#
                    + #"error_type="\#(key.error ? "other" : "none")",streaming="no",feature_category="duo_chat",unit_primitive="duo_chat""#
                lines.append("model_inferences_total{\(labels)} \(Int(count))")
                for le in ["0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "+Inf"] {
                    histogram.append("inference_request_duration_seconds_bucket{\(labels),le=\"\(le)\"} \(le == "0.5" ? 0 : Int(count))")
                }
                histogram.append("inference_request_duration_seconds_count{\(labels)} \(Int(count))")
                histogram.append("inference_request_duration_seconds_sum{\(labels)} \(count * 0.8)")
            }
            return (lines + histogram).joined(separator: "\n") + "\n"
        }
    }
}
