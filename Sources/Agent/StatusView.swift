import AgentCore
import ControlAPI

/// The agent's state for `/status`: each subject's health and evidence (a provider, or a model on
/// it), open proposals, pause, failed-over subjects, recent actions, readiness and traffic trust.
enum StatusView {
    static func json(core: AgentCore, now: Double, approveCommand: String, recent: [JSONValue], readiness: JSONValue) -> JSONValue {
        var providers: [String: JSONValue] = [:]
        // A subject probed at several endpoints shows one endpoint's last result.
        let latest = Dictionary(core.streams.streams.values.map { ($0.subject, $0) }, uniquingKeysWith: { a, b in a.last != nil ? a : b })
        for (name, health) in core.monitor.machines {
            let stream = latest[name]
            providers[name] = .object([
                "state": .string(health.state.rawValue),
                "error_rate": .number((health.errorRate * 1000).rounded() / 1000),
                "samples": .number(Double(health.sampleCount)),
                "last_class": stream?.last.map { .string($0.resultClass.rawValue) } ?? .null,
                "last_ttfb_ms": stream?.last.map { .number(($0.ttfbMs * 10).rounded() / 10) } ?? .null,
            ])
        }
        let open = core.proposals.values.filter { $0.status == .open }.sorted { $0.id < $1.id }.map { proposal -> JSONValue in
            .object([
                "id": .string(proposal.id), "action": .string(proposal.kind.rawValue), "provider": .string(proposal.provider),
                "target": .string(proposal.target),
                "expires_in_s": .number(max(0, (proposal.expires - now).rounded())),
                "approve": .string("\(approveCommand) \(proposal.id)"),
            ])
        }
        // `failed_over`: what the secrets say the agent changed; `failing`: what health says (a proposal may be open).
        return .object([
            "leader": .bool(core.custody.leading), "paused": .bool(core.paused), "blind": .bool(core.monitor.isBlind),
            "providers": .object(providers),
            "open_proposals": .array(open), "failing": .array(core.monitor.failedOverSubjects.map { .string($0) }),
            "failed_over": .array(core.custody.owned.sorted().map { .string($0) }), "recent_actions": .array(recent),
            "readiness": readiness,
            // Each drilled target's last fire drill.
            "drills": .object(
                core.drillRecords.mapValues { record in
                    .object([
                        "last_success": record.lastSuccess.map { .number($0) } ?? .null,
                        "last_result": record.lastResult.map { .string($0) } ?? .null, "running": .bool(record.running),
                    ])
                }),
            // With a traffic source: whether its readings are evidence now, and why not.
            "traffic": core.traffic.map { trust in
                .object([
                    "evidence": .bool(trust.trusted && trust.distrust == nil), "distrust": trust.distrust.map { .string($0) } ?? .null,
                ])
            } ?? .null,
        ])
    }
}
