import AgentCore
import Telemetry

/// The metrics the loop exports, read off the core.
extension AgentMetrics {
    /// Every series the agent exports, declared once at start (so a dashboard shows zeros, not gaps).
    func declare(_ core: AgentCore, subjects: [String]) {
        declare(targets: core.settings.targets.map(\.name), providers: subjects)
        leader(false)
        flags(paused: core.paused, blind: core.monitor.isBlind)
        for subject in subjects { health(of: subject, in: core) }
    }

    /// `subject`'s health as the core judges it now.
    func health(of subject: String, in core: AgentCore) {
        guard let health = core.monitor.machines[subject] else { return }
        self.health(of: subject, state: health.state.rawValue, errorRate: health.errorRate, probeBroken: health.brokenProbe != nil)
    }

    /// Each target's first open proposal expiry, as Unix time (0 when none is open); `wall` is the
    /// calendar time at the loop's `now`.
    func proposalExpiries(_ core: AgentCore, members: (String) -> [String], now: Double, wall: Double) {
        for target in core.settings.targets.map(\.name) {
            let open = core.proposals.values.filter { members($0.target).contains(target) && $0.status == .open }
            proposalExpiry(target: target, at: open.map(\.expires).min().map { wall + $0 - now })
        }
    }
}
