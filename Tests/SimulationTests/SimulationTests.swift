import ControlSimulators
import Simulation
import Testing

/// The whole agent under deterministic simulation (`failover-agent-bench simulate`): a few dozen
/// seeds here, 200 in the benchmark; and the cases seeds found while it was built, kept.
@Suite(.serialized) struct SimulationTests {
    /// Eight seeds, one test case each (a failure names its seed), each with a fault at least.
    @Test(arguments: UInt64(1)...8) func eightSeedsBreakNoInvariant(_ seed: UInt64) async {
        let run = await Simulation.run(seed: seed)
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.violations.joined(separator: "\n"))")
        #expect(!run.faults.isEmpty, "every run injects at least one fault")
    }

    /// The agent's whole story on the real loop: an outage is proposed, approved half a minute
    /// after it is first seen, carried out and restored once, and the pages say so.
    @Test func anOutageIsProposedApprovedCarriedOutAndRestoredOnce() async throws {
        let run = await Simulation.run(provider: "vertex", start: 300, length: 900, faults: [], mode: .propose)
        let story = "\(run.trace.joined(separator: "\n"))\n\(run.pages.joined(separator: "\n"))"
        #expect(run.violations.isEmpty, "\(run.violations)\n\(story)")
        func time(_ line: String?) -> Double? { line.flatMap { Double($0.dropFirst(2).prefix { $0 != ":" }) } }
        let approved = try #require(time(run.trace.first { $0.hasSuffix("approved a proposal: accepted") }), "\(story)")
        #expect(approved > 300 + 30 && approved < 300 + 45 + 30 + 5, "decided within 45 s of the onset, approved half a minute later")
        let failovers = run.trace.filter { $0.contains("failover of vertex") && $0.contains(": deployed") }
        let restores = run.trace.filter { $0.contains("restore of vertex") && $0.contains(": deployed") }
        #expect(failovers.count == 1 && restores.count == 1, "\(story)")
        #expect((time(failovers.first) ?? 0) >= approved)
        #expect((time(restores.first) ?? 0) > 1200 + 180, "restored after min_healthy of health: \(story)")
        let paged = try #require(run.pages.first { $0.hasPrefix("trigger critical failover-agent/proposal/") }, "\(story)")
        let proposal = paged.split(separator: "/").last
        #expect(
            run.pages.contains("resolve failover-agent/proposal/\(proposal ?? "")"), "approved and carried out: its page closes. \(story)")
        #expect(run.pages.last == "resolve failover-agent/vertex", "the restore resolves the provider's page: \(story)")
        #expect(run.pages.filter { $0.hasSuffix("failover-agent/vertex") }.count == 2, "one page when it failed, one when it came back")
    }

    /// A seed replays exactly: the same faults, the same actions at the same virtual times.
    /// Seed 3 runs in `propose` mode: its approvals replay too.
    @Test(arguments: [UInt64(3)]) func aSeedReplaysExactly(_ seed: UInt64) async {
        let first = await Simulation.run(seed: seed)
        let again = await Simulation.run(seed: seed)
        #expect(!first.trace.isEmpty && first.trace == again.trace && first.faults == again.faults, "\(first.trace)\n\(again.trace)")
    }

    /// Seed 3 runs in `propose` mode: the approved plan is what is written, byte for byte.
    @Test func anApprovedProposalIsWrittenByteForByte() async {
        let run = await Simulation.run(seed: 3)
        #expect(run.provider.hasSuffix("(propose)") && run.violations.isEmpty, "\(run.violations)")
        #expect(run.trace.contains { $0.contains("the approved proposal written byte for byte") }, "\(run.trace)")
    }

    /// Seed 184 found it: crashed while its deploy ran, the recovered failover posted its
    /// downstream pipeline's note a second time (a resumed action now looks for a note first).
    @Test func aRecoveredFailoverPostsNoNoteTwice() async {
        let run = await Simulation.run(seed: 184)
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("crashed; restarting") }, "the crash struck: \(run.trace)")
    }

    /// The Lease lost after the restore's deploy, before its change request was closed: the next
    /// leader found nothing failed over and left it open (settling now closes it).
    @Test func aRestoreCutShortByALeaderChangeStillClosesItsChangeRequest() async {
        let run = await Simulation.run(provider: "vertex", start: 240, length: 900, faults: [.leaderChange(afterWrites: 22)])
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("is closed now") }, "the next leader closed it: \(run.trace)")
    }

    /// Seed 852 found it: a crash right after the failover's job retry, before it was journaled,
    /// while `main`'s newer deploy fails; the restarted agent found production's trigger pending
    /// (its own retry), refused to retry it, paged twice, and later deployed a third time.
    @Test func aRetryTheCrashHidFromTheJournalIsFollowed() async {
        let run = await Simulation.run(seed: 852)
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("crashed; restarting") }, "the crash struck: \(run.trace)")
    }

    /// Seed 519 found it: blind, and paged that it acts on nothing, the agent carried out an
    /// approval; an approval while blind is refused now, the proposal kept open for the next one.
    @Test func anApprovalWhileBlindWaitsForSight() async {
        let run = await Simulation.run(seed: 519)
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains("t=255: approved a proposal: refused"), "approved while blind: \(run.trace)")
    }

    /// Seed 1557 found it: `main`'s newer deploy, followed after the write, failed; the next round
    /// retried the image production runs; the Lease was lost after that retry, and the next leader,
    /// knowing only the job first checked, retried again. A later round's retry is recorded now.
    /// The change of leader (or a crash, resumed from the journal) strikes at each write around that retry.
    @Test(arguments: (11...15).flatMap { [SimulatedFault.leaderChange(afterWrites: $0), .crash(afterWrites: $0)] })
    func aLaterRoundsRetryIsFollowedByWhoeverFinishes(_ fault: SimulatedFault) async {
        let run = await Simulation.run(
            provider: "vertex", start: 276, length: 1258, faults: [.mainMoves(.newerDeployFails), fault], mode: .propose)
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("replica 2 leads") || $0.contains("crashed; restarting") }, "it struck: \(run.trace)")
        // What carries the failover is the image production runs (the newer one failed), and every report says so.
        #expect(!run.trace.contains { $0.contains("deployed sha8") }, "\(run.trace)")
    }

    /// The gateway's Prometheus down, stale or implausible for seven minutes across the incident:
    /// every invariant holds, and the distrust is paged (the run's own check).
    @Test(arguments: PrometheusSimulator.Trouble.allCases) func aTrafficSourceInTroubleIsPagedAndBreaksNothing(
        _ trouble: PrometheusSimulator.Trouble
    )
        async
    {
        let run = await Simulation.run(provider: "vertex", start: 200, length: 600, faults: [.traffic(trouble, from: 150, seconds: 420)])
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("deployed: job success") }, "failed over on probes: \(run.trace)")
    }

    /// Vault or GitLab answering a minute late, three requests a turn, through the failover and
    /// the restore (the clock moves on as each is answered, three minutes a turn): every invariant
    /// holds, and both actions are carried out, the failover while the incident lasts.
    @Test(arguments: [SimulatedFault.System.vault, .gitlab]) func slowAnswersBreakNothing(_ system: SimulatedFault.System) async {
        let run = await Simulation.run(provider: "vertex", start: 200, length: 600, faults: [.slowAnswers(system, count: 3, seconds: 60)])
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        // A failover during the incident, then its restore: both redeploy (the simulated target's `restore_redeploy`).
        let deployed = run.trace.filter { $0.contains("aigw-production: deployed: job success") }
        #expect(deployed.count == 2, "failed over and restored: \(run.trace)")
        #expect(deployed.first.flatMap { Int($0.dropFirst(2).prefix { $0 != ":" }) }.map { $0 < 800 } == true, "\(run.trace)")
    }

    /// Seed 114: a failover stopped by a change of leader after opening its change request and
    /// before its write, and slow GitLab answers had the incident over before anything followed:
    /// the change request stayed open and recorded for good. The settlement closes it once the
    /// provider is healthy again.
    @Test func aStoppedFailoversChangeRequestIsClosedOnceItsProviderIsHealthy() async {
        let run = await Simulation.run(
            provider: "anthropic", start: 155, length: 433,
            faults: [
                .vaultWithoutPatch, .serverErrors(.gitlab, count: 2), .leaderChange(afterWrites: 3),
                .slowAnswers(.gitlab, count: 2, seconds: 57),
            ],
            mode: .propose)
        #expect(run.violations.isEmpty, "\(run.summary)\n\(run.trace.joined(separator: "\n"))\n\(run.violations.joined(separator: "\n"))")
        #expect(run.trace.contains { $0.contains("lost the Lease") }, "it struck: \(run.trace)")
    }
}
