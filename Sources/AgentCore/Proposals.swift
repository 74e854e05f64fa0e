/// Proposals as the run loop meets them: planned (or not), approved and re-planned. The loop does
/// the planning and the journal; what follows from each answer is decided here.
extension AgentCore {
    /// The loop planned a `propose` command and journaled it as `id`: record it and page its
    /// approve command, with the plan's `diff` and the SHA it would deploy.
    public mutating func proposed(
        id: String, kind: ActionKind, provider: String, target: String, sha: String, diff: String, approveCommand: String, at now: Double
    ) -> [AgentCommand] {
        opened(id: id, kind: kind, provider: provider, target: target, at: now)
        let lifetime = settings.proposalLifetime
        let expires = lifetime >= 120 ? "\(Int(lifetime / 60)) min" : "\(Int(lifetime)) s"
        return [
            .log(
                LogLine(
                    .notice, "proposal \(id): \(kind.rawValue) of \(provider) on \(target); approve with: \(approveCommand) \(id)",
                    ["proposal": id, "provider": provider, "target": target])),
            .alert(
                Alert(
                    dedupKey: "failover-agent/proposal/\(id)",
                    summary:
                        "\(provider) on \(target): approve the \(kind.rawValue) with `\(approveCommand) \(id)` (or reject it); it "
                        + "deploys \(sha.prefix(12)) and expires in \(expires).\n\(diff)",
                    severity: .critical)),
        ]
    }

    /// Planning a `propose` command failed: nothing is proposed; a person hears why.
    public func proposalFailed(kind: ActionKind, provider: String, target: String, why: String) -> [AgentCommand] {
        [
            .alert(
                Alert(
                    dedupKey: "failover-agent/\(target)/\(provider)/action",
                    summary: "cannot propose the \(kind.rawValue) of \(provider) on \(target): \(why)", severity: .critical))
        ]
    }

    /// An approved proposal, planned again: carried out when the plan, the secret version and the
    /// pipeline are as proposed; otherwise superseded by a new proposal.
    public func revalidated(_ id: String, kind: ActionKind, provider: String, target: String, unchanged: Bool) -> (
        commands: [AgentCommand], answer: String, accepted: Bool
    ) {
        guard unchanged else {
            return (
                [
                    .markProposal(id, .superseded),
                    .alert(
                        Alert(
                            dedupKey: "failover-agent/proposal/\(id)",
                            summary: "Proposal \(id) was superseded: what it would change changed since; a new proposal is paged",
                            severity: .info, resolve: true)),
                    .propose(kind, provider: provider, target: target),
                ],
                "the plan, secret version or pipeline changed since proposal \(id) was made: a new proposal is being paged", false
            )
        }
        return (
            [.execute(kind, provider: provider, target: target, proposal: id)],
            "approved \(id): \(kind.rawValue) of \(provider) on \(target) is under way", true
        )
    }
}
