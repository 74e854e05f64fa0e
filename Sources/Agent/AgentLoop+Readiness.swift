import Actions
import ControlAPI
import Foundation
import Logging

extension AgentLoop {
    /// Runs `executor`'s readiness checks (reads only), exports them, and logs each change.
    func checkReadiness(_ executor: TargetExecutor) async {
        let target = executor.target.name
        var checks = await executor.readiness(now: executor.redeployer.clock.unixTime)
        let pagers = parts.pagers.pagers.map(\.settings.name)
        checks.append(
            ReadinessCheck(
                .pagers, ready: !pagers.isEmpty,
                pagers.isEmpty
                    ? "no pager configured: proposals and outcomes reach no one" : "pages go to \(pagers.joined(separator: ", "))"))
        let before = readiness[target] ?? []
        readiness[target] = checks
        for check in checks {
            parts.metrics.ready(target: target, check: check.name.rawValue, check.ready)
            if check.name == .vault || check.name == .gitlab {
                parts.metrics.credentialExpiry(target: target, credential: check.name.rawValue, at: check.expires)
            }
            let was = before.first { $0.name == check.name }?.ready
            guard was != check.ready else { continue }
            let metadata: Logger.Metadata = ["target": .string(target), "check": .string(check.name.rawValue)]
            if check.ready {
                parts.logger.info("ready: \(target) \(check.name.rawValue): \(check.reason)", metadata: metadata)
            } else {
                parts.logger.warning(
                    "not ready: \(target) \(check.name.rawValue): \(check.reason); a failover now would not go through",
                    metadata: metadata)
            }
        }
    }

    /// `/status`'s view: per target, each check with its reason.
    var readinessStatus: JSONValue {
        .object(
            readiness.mapValues { checks in
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
