import Actions
import ControlAPI
import Foundation

/// `GET /`: the agent's `/status` as a plain server-rendered HTML page (no JavaScript) that
/// reloads itself every `refresh` seconds. Every value is HTML-escaped.
public enum StatusPage {
    public static func render(_ status: JSONValue, refresh: Int = 5) -> String {
        let paused = status["paused"] == .bool(true)
        let blind = status["blind"] == .bool(true)
        let leader = status["leader"] == .bool(true)
        let banner = [
            leader ? "leader: this replica acts" : "follower: the leader acts; approvals are forwarded to it",
            paused ? "PAUSED: probing and paging, acting on nothing" : nil,
            blind ? "BLIND: most providers fail without an answer; no action is taken" : nil,
        ].compactMap { $0 }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="\(refresh)">
            <title>failover-agent status</title>
            <style>
            body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
            table{border-collapse:collapse;margin-bottom:1.5em}
            td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;white-space:nowrap}
            .healthy{background:#dff5df}.suspect{background:#fff4cc}.failing{background:#f9d0d0}.recovering{background:#dbe8ff}
            .flag{font-weight:bold;color:#a00}code{background:#f2f2f2;padding:.1em .3em}
            </style></head><body>
            <h1>failover-agent</h1>
            <p>\(banner.map(flag).joined(separator: " · "))</p>
            <h2>Providers</h2>
            \(providers(status))
            <h2>Open proposals</h2>
            \(proposals(status))
            <h2>Ready to act</h2>
            \(readiness(status))
            <h2>Recent actions</h2>
            \(actions(status))
            \(drills(status))
            <p>Failed over by this agent: \(escape(list(status["failed_over"])))</p>
            </body></html>

            """
    }

    private static func providers(_ status: JSONValue) -> String {
        let rows = (status["providers"]?.object ?? [:]).sorted { $0.key < $1.key }.map { name, health -> String in
            let state = health["state"]?.string ?? "unknown"
            let rate = health["error_rate"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 0
            return row(
                [
                    name, state, "\(Int((rate * 100).rounded())) %", text(health["samples"]), text(health["last_class"]),
                    text(health["last_ttfb_ms"]),
                ], class: state)
        }
        return table(
            ["Provider", "State", "Errors", "Samples", "Last result", "Last first byte (ms)"], rows, empty: "no provider is probed yet")
    }

    private static func proposals(_ status: JSONValue) -> String {
        let rows = (status["open_proposals"]?.array ?? []).map { proposal in
            row([
                text(proposal["id"]), text(proposal["action"]), text(proposal["provider"]), text(proposal["target"]),
                "\(text(proposal["expires_in_s"])) s",
            ])
            .replacingOccurrences(of: "</tr>", with: "<td><code>\(escape(text(proposal["approve"])))</code></td></tr>")
        }
        return table(["Proposal", "Action", "Provider", "Target", "Expires in", "Approve with"], rows, empty: "none")
    }

    private static func readiness(_ status: JSONValue) -> String {
        let rows = (status["readiness"]?.object ?? [:]).sorted { $0.key < $1.key }.flatMap { target, checks in
            (checks.array ?? []).map { check in
                let ready = check["ready"] == .bool(true)
                return row(
                    [target, text(check["check"]), ready ? "ready" : "NOT READY", text(check["reason"])],
                    class: ready ? "healthy" : "failing")
            }
        }
        return table(["Target", "Check", "State", "Why"], rows, empty: "not checked yet")
    }

    /// Each drilled target's last fire drill (nothing without drill targets).
    private static func drills(_ status: JSONValue) -> String {
        let drills = (status["drills"]?.object ?? [:]).sorted { $0.key < $1.key }
        guard !drills.isEmpty else { return "" }
        let rows = drills.map { target, drill -> String in
            let last = drill["last_success"].flatMap { if case .number(let n) = $0 { n } else { nil } }
            let when = last.map { Date(timeIntervalSince1970: $0).formatted(.iso8601) } ?? "never"
            let result = drill["running"] == .bool(true) ? "under way" : text(drill["last_result"])
            return row([target, when, result], class: result.contains("FAILED") ? "failing" : "healthy")
        }
        return "<h2>Fire drills</h2>\n" + table(["Target", "Last success (UTC)", "Last result"], rows, empty: "")
    }

    private static func actions(_ status: JSONValue) -> String {
        let rows = (status["recent_actions"]?.array ?? []).map { action in
            row([
                text(action["at"]), text(action["action"]), text(action["provider"]), text(action["target"]), text(action["summary"]),
                String(text(action["sha"]).prefix(12)),
            ])
        }
        return table(
            ["When (UTC)", "Action", "Provider", "Target", "Outcome", "Deployed SHA"], rows, empty: "none since the agent started")
    }

    private static func table(_ headers: [String], _ rows: [String], empty: String) -> String {
        guard !rows.isEmpty else { return "<p>\(escape(empty))</p>" }
        return "<table><tr>\(headers.map { "<th>\(escape($0))</th>" }.joined())</tr>\n\(rows.joined(separator: "\n"))</table>"
    }

    private static func row(_ cells: [String], class name: String? = nil) -> String {
        "<tr\(name.map { " class=\"\(escape($0))\"" } ?? "")>\(cells.map { "<td>\(escape($0))</td>" }.joined())</tr>"
    }

    private static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let s): s
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .bool(let b): b ? "yes" : "no"
        default: "—"
        }
    }

    private static func list(_ value: JSONValue?) -> String {
        let names = value?.array?.compactMap(\.string) ?? []
        return names.isEmpty ? "nothing" : names.joined(separator: ", ")
    }

    /// A banner line, marked when it is a pause or blindness.
    static func flag(_ line: String) -> String {
        "<span class=\"\(line.hasPrefix("PAUSED") || line.hasPrefix("BLIND") ? "flag" : "")\">\(escape(line))</span>"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
