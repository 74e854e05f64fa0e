import Simulation
import Testing

/// The whole agent under deterministic simulation (`failover-agent-bench simulate`): a few dozen
/// seeds here, 200 in the benchmark; and the seeds that found bugs while it was built, kept.
@Suite struct SimulationTests {
    @Test func thirtySeedsBreakNoInvariant() async {
        var faults = 0
        for seed in UInt64(1)...30 {
            let run = await Simulation.run(seed: seed)
            #expect(run.violations.isEmpty, "\(run.summary)\n\(run.violations.joined(separator: "\n"))")
            faults += run.faults.count
        }
        #expect(faults >= 30, "every run injects at least one fault")
    }

    /// A seed replays exactly: the same faults, the same actions at the same virtual times.
    @Test func aSeedReplaysExactly() async {
        let first = await Simulation.run(seed: 49)
        let again = await Simulation.run(seed: 49)
        #expect(first.trace == again.trace && first.faults == again.faults)
        #expect(first.trace.contains { $0.contains("crashed; restarting on the same journal") }, "\(first.trace)")
    }

    /// Seeds that found a bug while the simulator was built.
    @Test(arguments: [
        // A crash after the deploy started: the recovered failover posted its downstream note again.
        UInt64(49),
        // The Lease lost after the restore's deploy: its change request was never closed.
        69,
        // The Lease lost right after the change request opened: the next leader opened a second one.
        137,
    ])
    func aSeedThatFoundABug(_ seed: UInt64) async {
        let run = await Simulation.run(seed: seed)
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("restore of") && $0.contains("deployed") || $0.contains("is closed now") }, "\(run.trace)")
    }
}
