import Actions
import ControlAPI
import Foundation
import Lifecycle

/// What the running agent's actions came to: every report, the last 20 as `/status` shows them
/// (newest first).
struct ActionHistory: Sendable {
    private(set) var reports: [ActionReport] = []
    private(set) var entries: [JSONValue] = []

    mutating func add(_ kind: ActionKind, provider: String, _ report: ActionReport, at unixTime: Double) {
        var report = report
        (report.kind, report.provider) = (kind, provider)
        reports.append(report)
        let entry: [String: JSONValue] = [
            "at": .string(Date(timeIntervalSince1970: unixTime).formatted(.iso8601)), "action": .string(kind.rawValue),
            "provider": .string(provider), "target": .string(report.target),
            "outcome": .string(report.outcome.metricLabel), "summary": .string(report.outcome.summary),
            "sha": report.deploySHA.map { .string($0) } ?? .null, "verified": report.verified.map { .bool($0) } ?? .null,
        ]
        entries = Array(([JSONValue.object(entry)] + entries).prefix(20))
    }
}
