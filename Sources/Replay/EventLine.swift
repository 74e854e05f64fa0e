import Health
import ProbeResults

/// Health decisions as replay's JSON lines (`scenarios/README.md`); a model's lines add `model`.
enum EventLine {
    static func failover(_ provider: String, at: Double, mode: String, targets: [String], overrideJSON: String) -> String {
        #"{"t":\#(JSONText.number(at)),"event":"failover",\#(about(provider)),"mode":\#(JSONText.quote(mode)),"#
            + #""targets":\#(list(targets)),"override":\#(overrideJSON)}"#
    }

    static func restore(_ provider: String, at: Double, targets: [String]) -> String {
        #"{"t":\#(JSONText.number(at)),"event":"restore",\#(about(provider)),"targets":\#(list(targets))}"#
    }

    /// A failover that would write nothing: paged, never an action.
    static func cannotFailOver(_ subject: String, at: Double, why: String) -> String {
        #"{"t":\#(JSONText.number(at)),"event":"cannot_fail_over",\#(about(subject)),"why":\#(JSONText.quote(why))}"#
    }

    /// The gateway's traffic stopped (or started again) being evidence.
    static func traffic(trusted: Bool, at: Double, summary: String) -> String {
        #"{"t":\#(JSONText.number(at)),"event":"alert","kind":"\#(trusted ? "traffic_trusted" : "traffic_distrusted")","#
            + #""summary":\#(JSONText.quote(summary))}"#
    }

    /// `"provider":…`, and `"model":…` when the subject is one model.
    static func about(_ subject: String) -> String {
        #""provider":\#(JSONText.quote(Subject.provider(subject)))"#
            + (Subject.model(subject).map { #","model":\#(JSONText.quote($0))"# } ?? "")
    }

    private static func list(_ items: [String]) -> String { "[" + items.map(JSONText.quote).joined(separator: ",") + "]" }

    static func json(_ decision: HealthDecision) -> String {
        let t = #"{"t":\#(JSONText.number(decision.at)),"event":"#
        switch decision {
        case .state(let provider, let from, let to, _):
            return t + #""state",\#(about(provider)),"from":"\#(from.rawValue)","to":"\#(to.rawValue)"}"#
        case .failover(let provider, let at):
            return failover(provider, at: at, mode: "propose", targets: [], overrideJSON: "{}")
        case .restore(let provider, let at):
            return restore(provider, at: at, targets: [])
        case .blind(let providers, _):
            return t + #""blind","providers":\#(list(providers))}"#
        case .blindCleared:
            return t + #""blind_cleared"}"#
        case .probeBroken(let provider, let resultClass, _):
            return t + #""alert","kind":"probe_broken",\#(about(provider)),"class":"\#(resultClass.rawValue)"}"#
        case .probeFixed(let provider, _):
            return t + #""alert","kind":"probe_fixed",\#(about(provider))}"#
        case .restoreOverdue(let provider, let since, _):
            return t + #""alert","kind":"restore_overdue",\#(about(provider)),"recovering_since":\#(JSONText.number(since))}"#
        }
    }
}
