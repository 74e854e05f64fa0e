import Health
import ProbeResults

/// Health decisions as replay's JSON lines (`../shared/scenarios/README.md`).
enum EventLine {
    static func json(_ decision: HealthDecision) -> String {
        let t = #"{"t":\#(JSONText.number(decision.at)),"event":"#
        switch decision {
        case .state(let provider, let from, let to, _):
            return t + #""state","provider":\#(JSONText.quote(provider)),"from":"\#(from.rawValue)","to":"\#(to.rawValue)"}"#
        case .failover(let provider, _):
            return t + #""failover","provider":\#(JSONText.quote(provider))}"#
        case .restore(let provider, _):
            return t + #""restore","provider":\#(JSONText.quote(provider))}"#
        case .blind(let providers, _):
            return t + #""blind","providers":[\#(providers.map(JSONText.quote).joined(separator: ","))]}"#
        case .blindCleared:
            return t + #""blind_cleared"}"#
        case .probeBroken(let provider, let resultClass, _):
            return t + #""alert","kind":"probe_broken","provider":\#(JSONText.quote(provider)),"class":"\#(resultClass.rawValue)"}"#
        case .probeFixed(let provider, _):
            return t + #""alert","kind":"probe_fixed","provider":\#(JSONText.quote(provider))}"#
        }
    }
}
