import Probing
import Synchronization

/// Fresh probes of the models a failover is about to bring in, right before its write: the
/// gateway's readiness check calls every default model, so a replacement that fails would keep
/// the redeploy from starting.
public struct Preflight: Sendable {
    /// The first spec that asks each model.
    let specs: [String: ProbeSpec]
    let prober: Prober
    /// The running loop, whose probe cap every pre-flight probe waits for (none: not capped, in one-off commands).
    public let gate = ProbeGate()

    public init(specs: [ProbeSpec], prober: Prober) {
        var byModel: [String: ProbeSpec] = [:]
        for spec in specs { if let model = spec.model, byModel[model] == nil { byModel[model] = spec } }
        self.specs = byModel
        self.prober = prober
    }

    /// Each model's probe class, probed at once; models without a probe are left out.
    public func probe(_ models: [String]) async -> [String: String] {
        await withTaskGroup(of: (String, String).self) { group in
            for model in models {
                guard let spec = specs[model] else { continue }
                group.addTask {
                    await gate.wait(for: spec.name)
                    return (model, await prober.probe(spec).resultClass.rawValue)
                }
            }
            var classes: [String: String] = [:]
            for await (model, resultClass) in group { classes[model] = resultClass }
            return classes
        }
    }
}

/// Where pre-flight probes wait for a start within the running loop's probe cap.
public final class ProbeGate: Sendable {
    private let loop = Mutex<AgentLoop?>(nil)

    public init() {}

    /// From now on, pre-flight probes take their starts from `loop`'s cap.
    public func attach(_ loop: AgentLoop) { self.loop.withLock { $0 = loop } }

    func wait(for endpoint: String) async {
        guard let loop = loop.withLock({ $0 }) else { return }
        await loop.waitForProbeStart(endpoint)
    }
}

extension AgentLoop {
    /// Waits until the probe cap allows a pre-flight probe of `endpoint` (its start is reserved).
    func waitForProbeStart(_ endpoint: String) async {
        let at = core.reserveProbe(endpoint, at: now)
        if at > now { try? await parts.clock.sleep(for: .milliseconds(Int64((at - now) * 1000))) }
    }
}
