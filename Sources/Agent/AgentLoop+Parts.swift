import Actions
import Journal
import Logging
import Paging
import ProbeResults
import Probing
import Telemetry
import Timekeeping
import TrafficClient

extension AgentLoop {
    /// What the loop carries out the core's commands with.
    public struct Parts: Sendable {
        public var specs: [ProbeSpec]
        /// Sends one probe: the ``Prober`` in production; a simulation answers from its incident.
        public var probe: @Sendable (ProbeSpec) async -> ProbeResult
        public var runner: ActionRunner
        public var pagers: Pagers
        public var journal: Journal
        /// What a page tells a person to type, e.g. `failover-agent approve`.
        public var approveCommand: String
        public var metrics: AgentMetrics
        /// With several replicas: the Lease, through which the leader's pause reaches every replica.
        public var election: LeaderElection?
        /// Lines carry `provider`, `target`, `action` and `proposal` metadata where they are about one.
        public var logger: Logger
        /// The loop's time: its turns, the core's clock, proposal lifetimes.
        public var clock: any AgentClock
        /// How often every target's readiness checks run (reads only), in seconds of ``clock``.
        public var readinessInterval: Double
        /// The targets' traffic sources (`targets[].traffic`), read together every shortest interval.
        public var traffic: [TrafficSource] = []
        /// The work the core commands (probes, actions, reads, pages) runs one piece at a time, in
        /// order, within ``AgentLoop/step()`` — deterministic, for simulation and tests on virtual
        /// time; false: concurrently, in ``AgentLoop/run()``'s task group.
        public var inline = false

        public init(
            specs: [ProbeSpec], prober: Prober, runner: ActionRunner, pagers: Pagers, journal: Journal,
            approveCommand: String = "failover-agent approve",
            metrics: AgentMetrics = .discarded, election: LeaderElection? = nil, logger: Logger, clock: any AgentClock,
            readinessInterval: Double = 300
        ) {
            (self.specs, self.runner, self.pagers, self.journal, self.approveCommand) = (specs, runner, pagers, journal, approveCommand)
            (self.metrics, self.election, self.logger, self.clock) = (metrics, election, logger, clock)
            self.readinessInterval = readinessInterval
            probe = { await prober.probe($0) }
        }
    }
}
