import Actions
import ControlAPI
import Logging
import Paging
import Telemetry

/// Each target's readiness checks as last run: exported, logged when one changes, shown on `/status`.
struct ReadinessBoard: Sendable {
    private(set) var checks: [String: [ReadinessCheck]] = [:]

    /// Runs `executor`'s checks (reads only), with whether any pager is configured.
    static func run(_ executor: TargetExecutor, pagers: Pagers) async -> [ReadinessCheck] {
        var checks = await executor.readiness(now: executor.redeployer.clock.unixTime)
        let names = pagers.pagers.map(\.settings.name)
        checks.append(
            ReadinessCheck(
                .pagers, ready: !names.isEmpty,
                names.isEmpty ? "no pager configured: proposals and outcomes reach no one" : "pages go to \(names.joined(separator: ", "))")
        )
        return checks
    }

    /// Records `target`'s checks, exports them and logs each change.
    mutating func record(_ target: String, _ now: [ReadinessCheck], metrics: AgentMetrics, logger: Logger) {
        let before = checks[target] ?? []
        checks[target] = now
        for check in now {
            metrics.ready(target: target, check: check.name.rawValue, check.ready)
            if check.name == .vault || check.name == .gitlab {
                metrics.credentialExpiry(target: target, credential: check.name.rawValue, at: check.expires)
            }
            guard before.first(where: { $0.name == check.name })?.ready != check.ready else { continue }
            let metadata: Logger.Metadata = ["target": .string(target), "check": .string(check.name.rawValue)]
            if check.ready {
                logger.info("ready: \(target) \(check.name.rawValue): \(check.reason)", metadata: metadata)
            } else {
                logger.warning(
                    "not ready: \(target) \(check.name.rawValue): \(check.reason); a failover now would not go through", metadata: metadata)
            }
        }
    }

    /// `/status`'s view: per target, each check with its reason.
    var status: JSONValue {
        .object(
            checks.mapValues { checks in
                .array(
                    checks.map { check in
                        .object([
                            "check": .string(check.name.rawValue), "ready": .bool(check.ready), "reason": .string(check.reason),
                            "expires": check.expires.map { .number($0) } ?? .null,
                        ])
                    })
            })
    }
}
