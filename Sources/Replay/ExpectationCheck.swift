import ProbeResults
import Scenarios

/// Compares what the agent did with what a scenario expects: each expected action must happen
/// once inside its time range; any other failover or restore is a false action.
public enum ExpectationCheck {
    public static func violations(expected: [Scenario.ExpectedAction], actions: [Replay.Action]) -> [String] {
        var unmatched = expected
        var violations: [String] = []
        for action in actions {
            if let index = unmatched.firstIndex(where: { $0.isMet(by: action.action, on: action.provider, at: action.t) }) {
                unmatched.remove(at: index)
            } else {
                violations.append("false \(action.action.rawValue) of \(action.provider) at \(format(action.t))")
            }
        }
        for missing in unmatched {
            violations.append(
                "missing \(missing.action.rawValue) of \(missing.subject) between \(format(missing.notBefore)) and \(format(missing.by))"
            )
        }
        return violations
    }

    private static func format(_ seconds: Double) -> String { "\(Int(seconds.rounded()))s" }
}
