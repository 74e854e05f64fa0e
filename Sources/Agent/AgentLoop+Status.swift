import AgentCore
import ControlAPI

extension AgentLoop {
    /// The agent's state for `/status`: each provider's health and evidence, open proposals, pause.
    public func status() -> JSONValue {
        var providers: [String: JSONValue] = [:]
        for (name, stream) in core.streams.streams where specs[name] != nil {
            let health = core.monitor.providers[name]
            providers[name] = .object([
                "state": .string(health?.state.rawValue ?? "unknown"),
                "error_rate": .number(((health?.errorRate ?? 0) * 1000).rounded() / 1000),
                "samples": .number(Double(health?.sampleCount ?? 0)),
                "last_class": stream.last.map { .string($0.resultClass.rawValue) } ?? .null,
                "last_ttfb_ms": stream.last.map { .number(($0.ttfbMs * 10).rounded() / 10) } ?? .null,
            ])
        }
        let now = now
        let open = core.proposals.values.filter { $0.status == .open }.sorted { $0.id < $1.id }.map { proposal -> JSONValue in
            .object([
                "id": .string(proposal.id), "action": .string(proposal.kind.rawValue), "provider": .string(proposal.provider),
                "target": .string(proposal.target),
                "expires_in_s": .number(max(0, (proposal.expires - now).rounded())),
                "approve": .string("\(parts.approveCommand) \(proposal.id)"),
            ])
        }
        let failing = core.monitor.providers.values.filter { $0.state == .failing || $0.state == .recovering }.map(\.provider).sorted()
        // `failed_over`: what the secrets say the agent changed; `failing`: what health says (a proposal may be open).
        return .object([
            "leader": .bool(core.custody.leading), "paused": .bool(core.paused), "blind": .bool(core.monitor.isBlind),
            "providers": .object(providers),
            "open_proposals": .array(open), "failing": .array(failing.map { .string($0) }),
            "failed_over": .array(core.custody.owned.sorted().map { .string($0) }), "recent_actions": .array(recentActions),
        ])
    }
}
