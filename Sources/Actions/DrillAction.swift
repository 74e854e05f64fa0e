import ControlAPI
import GitLabClient
import Lifecycle

/// What a fire drill came to: both halves, and whether the world is back as it was.
public struct DrillReport: Sendable {
    public var target: String
    public var provider: String
    public var failover: ActionReport
    /// nil when the failover wrote nothing (nothing to restore).
    public var restore: ActionReport?
    /// The secret's value after the restore is the value before the failover, byte for byte.
    public var secretBack: Bool
    /// The expedited-deploy variable is as it was before.
    public var variableBack: Bool

    public init(
        target: String, provider: String, failover: ActionReport, restore: ActionReport?, secretBack: Bool, variableBack: Bool
    ) {
        (self.target, self.provider, self.failover, self.restore) = (target, provider, failover, restore)
        (self.secretBack, self.variableBack) = (secretBack, variableBack)
    }

    /// Both halves deployed and verified (where a gateway is configured), and everything back.
    public var succeeded: Bool {
        guard let restore else { return false }
        return failover.outcome == .deployed && failover.verified != false && restore.outcome == .deployed && restore.verified != false
            && secretBack && variableBack
    }

    /// One line for pages, the journal and the CLI.
    public var summary: String {
        if succeeded { return "drill of \(provider) on \(target) succeeded: failed over, restored, both verified, everything back" }
        var why = ["failover \(failover.outcome.summary)"]
        if let restore { why.append("restore \(restore.outcome.summary)") }
        if !secretBack { why.append("the secret is not back as it was") }
        if !variableBack { why.append("the expedited variable is not back as it was") }
        return "drill of \(provider) on \(target) FAILED: " + why.joined(separator: "; ")
    }
}

extension TargetExecutor {
    /// A fire drill (`targets[].drill`): a real failover of `provider`, planned as an incident's
    /// would be, followed and verified; then its restore with its own redeploy, verified; the
    /// secret and the expedited variable checked back as they were. `act` carries out each half
    /// (journaled by the running agent; directly by the CLI). Refused, with nothing written, for
    /// a target without `drill:`.
    public func drill(
        provider: String, act: (ActionKind, ActionTerms) async -> ActionReport
    ) async -> DrillReport {
        let refused = { (why: String) in
            DrillReport(
                target: target.name, provider: provider, failover: ActionReport(target: target.name, outcome: .refused(why)), restore: nil,
                secretBack: true, variableBack: true)
        }
        guard target.drill != nil else {
            return refused("\(target.name) has no `drill:` in its configuration: only a target with one can be drilled")
        }
        let before: (secret: String?, variable: CIVariable?)
        do throws(ControlError) { before = try await worldAsIs() } catch {
            return refused("cannot read what the drill would change: \(error)")
        }
        let failover = await act(.failover, ActionTerms(drill: true))
        var report = DrillReport(
            target: target.name, provider: provider, failover: failover, restore: nil, secretBack: true, variableBack: true)
        guard failover.outcome.changedTheSecret || failover.outcome == .deployed else { return report }
        report.restore = await act(.restore, ActionTerms(drill: true))
        let after = try? await worldAsIs()
        report.secretBack = after.map { $0.secret == before.secret } ?? false
        report.variableBack = after.map { $0.variable?.value == before.variable?.value } ?? false
        return report
    }

    /// The secret's value and the expedited variable, as they are.
    private func worldAsIs() async throws(ControlError) -> (secret: String?, variable: CIVariable?) {
        let secret = try await vault.read().data[target.vault.key]?.string
        guard target.gitlab.expedited else { return (secret, nil) }
        return (secret, try await redeployer.gitlab.variable(Redeployer.expeditedVariable, scope: target.gitlab.expeditedScope))
    }
}
