import Lifecycle
import Simulation
import Testing

/// Fire drills on a schedule in the running agent, under simulation.
@Suite(.serialized) struct DrillSimulationTests {
    static let drill = DrillSettings(provider: "vertex", every: 7 * 86_400)

    /// Quiet providers: the first drill runs at once, both halves verified, everything back.
    @Test func aScheduledDrillSucceedsAndPutsEverythingBack() async {
        let run = await Simulation.run(provider: "vertex", start: 3000, length: 300, faults: [], drill: Self.drill)
        #expect(run.violations.isEmpty, "\(run.violations)")
        let drills = run.trace.filter { $0.contains("drill of") }
        #expect(drills.count == 1 && drills.first?.contains("succeeded") == true, "one drill, a success: \(run.trace)")
    }

    /// A real incident starts while the drill runs: the drill restores first, the incident's
    /// failover follows, and its restore puts everything back.
    @Test func aDrillInterruptedByARealIncidentRestoresFirst() async {
        let run = await Simulation.run(provider: "anthropic", start: 80, length: 900, faults: [], drill: Self.drill)
        #expect(run.violations.isEmpty, "\(run.violations)\n\(run.trace.joined(separator: "\n"))")
        // The drill starts at its first minute; the incident at 80 s, while the drill is under way.
        let drillEnd = run.trace.firstIndex { $0.contains("drill of") && $0.contains("succeeded") }
        let incidentFailover = run.trace.firstIndex { $0.contains("aigw-production: deployed") }
        #expect(drillEnd != nil && incidentFailover != nil && drillEnd! < incidentFailover!, "\(run.trace.joined(separator: "\n"))")
        #expect(
            run.trace.first.map { Int($0.dropFirst(2).prefix { $0.isNumber }) ?? 0 }.map { $0 > 80 } == true,
            "it ended after the incident began")
    }

    /// The replica crashes part-way through the drill's failover: the restart finishes it once,
    /// and the world ends as it was.
    @Test(arguments: [3, 6, 10]) func aDrillKilledPartWayIsFinishedOnceAfterTheRestart(_ writes: Int) async {
        let run = await Simulation.run(
            provider: "vertex", start: 3000, length: 300, faults: [.crash(afterWrites: writes)], drill: Self.drill)
        #expect(run.violations.isEmpty, "\(run.violations)\n\(run.trace.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("crashed; restarting") }, "\(run.trace.joined(separator: "\n"))")
    }
}
