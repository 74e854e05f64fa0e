import ControlAPI
import GatewayClient
import GitLabClient
import Lifecycle
import Selection
import VaultClient

/// The text of a change request: what changes, where, why and who approved. No secret reaches it:
/// it names models, features, the secret's place and version, the pipeline and its SHA.
enum ChangeRequestText {
    static func opening(_ state: TargetExecutor.ActionState, checked: CheckedStep, target: Target) -> String {
        var lines = [
            "failover-agent fails **\(state.provider)** over on **\(target.name)** (AI Gateway model selection).", "",
            "- Secret: `\(target.vault.mount)/\(target.vault.path)` key `\(target.vault.key)`, planned from version "
                + "\(checked.secretVersion)",
            "- Redeploy: pipeline #\(checked.pipeline.map(String.init) ?? "?") at `\(checked.sha ?? "?")`, job "
                + "#\(checked.job.map(String.init) ?? "?") (\(checked.jobName ?? "?"))"
                + (state.report.deployDecision.map { ": \($0)" } ?? ""),
            "- Approved: "
                + (state.approval.map { "by a person, \($0); the override written is exactly the one approved" }
                    ?? "performed unattended (target mode perform)"),
        ]
        for warning in state.report.warnings { lines.append("- Note: \(warning)") }
        if !state.terms.groupMembers.isEmpty {
            lines.append(
                "- One incident, one change request: \(([target.name] + state.terms.groupMembers).joined(separator: ", ")) are failed "
                    + "over together; each notes its own plan here")
        }
        lines += [
            "",
            "| Feature | Before | After |", "|---|---|---|",
        ]
        if let changes = state.report.plan?.changes {
            for change in changes {
                let after = change.after.map { $0.joined(separator: ", ") } ?? "catalog defaults (key removed)"
                lines.append("| `\(change.feature)` | \(change.effectiveBefore.joined(separator: ", ")) | \(after) |")
            }
        } else {
            // Resumed after a restart: the plan is known by what it makes the gateway serve.
            for (feature, after) in checked.expect.sorted(by: { $0.key < $1.key }) {
                lines.append("| `\(feature)` | (see the secret's version \(checked.secretVersion)) | \(after.joined(separator: ", ")) |")
            }
        }
        lines += ["", "The agent notes each later step here and closes this issue when it restores the secret."]
        return lines.joined(separator: "\n")
    }

    /// A later member of a group, noted in the change request the first one opened.
    static func member(_ state: TargetExecutor.ActionState, checked: CheckedStep, target: Target) -> String {
        var lines = [
            "**\(target.name)** fails \(state.provider) over too: secret `\(target.vault.mount)/\(target.vault.path)` planned from "
                + "version \(checked.secretVersion); redeploy pipeline #\(checked.pipeline.map(String.init) ?? "?") at "
                + "`\(checked.sha ?? "?")`, job #\(checked.job.map(String.init) ?? "?") (\(checked.jobName ?? "?")).",
            "", "| Feature | Before | After |", "|---|---|---|",
        ]
        for change in state.report.plan?.changes ?? [] {
            let after = change.after.map { $0.joined(separator: ", ") } ?? "catalog defaults (key removed)"
            lines.append("| `\(change.feature)` | \(change.effectiveBefore.joined(separator: ", ")) | \(after) |")
        }
        return lines.joined(separator: "\n")
    }
}
