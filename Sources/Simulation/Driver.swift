import Actions
import AgentCore
import ControlAPI
import Journal
import Lifecycle
import ProbeResults
import Timekeeping

/// Plays one simulated run: ticks the replica's core once a virtual second, answers its probes
/// from the incident, carries out the actions it commands through the real executor against the
/// simulated world, and checks the invariants after each. A crash or a change of leader drops
/// the replica mid-action; the next one starts from the journal file or the secret's metadata.
struct Driver {
    let world: SimulatedWorld
    let incident: Simulation.Incident
    let faults: [SimulatedFault]
    private(set) var violations: [String] = []
    private(set) var trace: [String] = []
    private var replica: Replica
    private var replicas = 1
    /// The last page this replica sent per dedup key, so a page repeated for one state change is
    /// found. A new process keeps no memory of the last one's pages: after a crash or a change of
    /// leader it pages what it sees again, under the same dedup key (which PagerDuty merges).
    private var pages: [String: String] = [:]
    private var healed = false

    init(world: SimulatedWorld, incident: Simulation.Incident, faults: [SimulatedFault], random: SeededGenerator) {
        (self.world, self.incident, self.faults) = (world, incident, faults)
        let strike = faults.lazy.compactMap { fault -> Int? in
            switch fault {
            case .crash(let after), .leaderChange(let after): after
            default: nil
            }
        }.first
        // The first replica cannot fail to open its journal in a fresh directory; a failure is a violation below.
        replica = try! Replica(world: world, journalPath: world.directory + "/journal-1.sqlite", lease: LeaseBudget(strike ?? .max))
    }

    var now: Double { world.clock.seconds }

    /// Runs until an hour after the incident; every fault is healed five minutes after it ends.
    mutating func play() async {
        for fault in faults { world.stand(fault, true) }
        let end = incident.end + 3600
        while now < end {
            if !healed, now >= incident.end + 300 {
                healed = true
                for fault in faults { world.stand(fault, false) }
                world.disarm()
                trace.append("t=\(Int(now)): faults healed")
            }
            await deliver(.leadership(true, leaderPaused: nil))
            await deliver(.tick)
            world.clock.advance(by: .seconds(1))
        }
        let open = await replica.runner.openIntents().count
        violations += Invariants.atEnd(world, openIntents: open, failoversWritten: failoverEpisodes)
    }

    /// Times the secret went from the original to an override of the agent's.
    private var failoverEpisodes: Int {
        let history = world.history
        return zip(history, history.dropFirst()).filter { $0.0 == SimulatedWorld.original && $0.1 != SimulatedWorld.original }.count
    }

    private mutating func deliver(_ event: AgentCore.Event) async {
        await carryOut(replica.handle(event, at: now))
    }

    /// Carries out the core's commands in order, and what handling their results commands.
    private mutating func carryOut(_ commands: [AgentCommand]) async {
        var queue = commands[...]
        let serving = ObjectIdentifier(replica)
        while let command = queue.popFirst(), ObjectIdentifier(replica) == serving {
            switch command {
            case .probe(let endpoints):
                for endpoint in endpoints {
                    queue += replica.handle(.probed(endpoint: endpoint, result: probe(endpoint), startedAt: now), at: now)
                }
            case .alert(let alert): page(alert)
            case .execute(let kind, let provider, let target, _):
                if kind == .failover, replica.isBlind { violations.append("t=\(Int(now)): a failover of \(provider) while blind") }
                queue += await act(kind, provider: provider, target: target)
            case .recoverJournal:
                for intent in await replica.runner.openIntents() where ObjectIdentifier(replica) == serving {
                    guard let (kind, _, report) = await replica.runner.recover(intent) else { continue }
                    queue += finished(kind, provider: intent.provider, target: intent.target, report, recovered: true, since: nil)
                }
            case .readOwnership(let targets): queue += await readOwnership(targets)
            case .settle(let target):
                do throws(ControlError) {
                    if let (action, provider, report) = try await replica.runner.settle(target) {
                        queue += finished(ActionKind(rawValue: action) ?? .failover, provider: provider, target: target, report, since: nil)
                    } else {
                        queue += replica.handle(.settleUnreadable(target: target, why: nil), at: now)
                    }
                } catch { queue += replica.handle(.settleUnreadable(target: target, why: error.description), at: now) }
            case .log, .propose, .sharePause, .markProposal, .watchNextDeployment: break
            }
        }
    }

    /// What `endpoint`'s probe answers now.
    private func probe(_ endpoint: String) -> ProbeResult {
        let blind = faults.contains {
            if case .blind(let from, let seconds) = $0 { return (from..<from + seconds).contains(now) }
            return false
        }
        if blind { return ProbeResult(provider: endpoint, probe: endpoint, resultClass: .connect, curlError: "CURLE_COULDNT_CONNECT") }
        if endpoint == incident.provider, (incident.start..<incident.end).contains(now) {
            return ProbeResult(provider: endpoint, probe: endpoint, resultClass: .http5xx, status: 503, ttfbMs: 40, totalMs: 40)
        }
        return ProbeResult(provider: endpoint, probe: endpoint, resultClass: .ok, status: 200, ttfbMs: 300, totalMs: 900)
    }

    private mutating func page(_ alert: Alert) {
        let said = "\(alert.resolve) \(alert.severity.rawValue) \(alert.summary)"
        if pages[alert.dedupKey] == said {
            violations.append("t=\(Int(now)): paged twice for one state change: \(alert.dedupKey): \(said.prefix(160))")
        }
        pages[alert.dedupKey] = said
    }

    /// What the world held before an action, to tell what the action did.
    struct Before {
        var versions: Int
        var retries: Int
        var issues: Int
        /// A standing fault withheld the ability to act: the action must write nothing.
        var unable: Bool
    }

    private mutating func act(_ kind: ActionKind, provider: String, target: String) async -> [AgentCommand] {
        if !healed { for fault in faults { world.arm(fault) } }
        let before = Before(
            versions: world.history.count, retries: world.gitlab.retries.count, issues: world.changeRequests.count,
            unable: !healed && faults.contains(where: \.withholdsAbility))
        let report = await replica.runner.run(kind, provider: provider, target: target, avoid: replica.unhealthy)
        return finished(kind, provider: provider, target: target, report, since: before)
    }

    /// Checks what an action left, and hands its end to the core (nothing when its replica is gone).
    private mutating func finished(
        _ kind: ActionKind, provider: String, target: String, _ report: ActionReport, recovered: Bool = false, since before: Before?
    ) -> [AgentCommand] {
        trace.append("t=\(Int(now)): \(kind.rawValue) of \(provider)\(recovered ? " (recovered)" : ""): \(report.outcome.summary)")
        if let before, before.unable,
            world.history.count != before.versions || world.gitlab.retries.count != before.retries
                || world.changeRequests.count != before.issues
        {
            violations.append("t=\(Int(now)): the \(kind.rawValue) of \(provider) wrote while a readiness check it needs failed")
        }
        violations += Invariants.afterAction(world).map { "t=\(Int(now)): \($0)" }
        guard !replica.lease.gone else {
            replaceReplica()
            return []
        }
        // Expedited deploys stand while a failover does, and go with its restore.
        if world.secret == SimulatedWorld.original, !world.gitlab.variables.isEmpty {
            violations.append(
                "t=\(Int(now)): the expedited variable is still set after the \(kind.rawValue) ended with nothing failed over")
        }
        return replica.handle(
            .finished(
                ActionFinished(
                    kind: kind, provider: provider, target: target, outcome: report.outcome, leftToPeople: report.leftToPeople,
                    changeRequestProblem: report.changeRequestProblem, verified: report.verified, recovered: recovered,
                    warnings: report.warnings, deployDecision: report.deployDecision)), at: now)
    }

    private mutating func readOwnership(_ targets: [String]) async -> [AgentCommand] {
        var commands: [AgentCommand] = []
        var found: [String: Result<[String], Custody.ReadFailure>] = [:]
        for target in targets {
            do throws(ControlError) {
                if let (action, provider, report) = try await replica.runner.settle(target) {
                    commands += finished(ActionKind(rawValue: action) ?? .failover, provider: provider, target: target, report, since: nil)
                }
                guard let executor = replica.runner.executors[target] else { continue }
                found[target] = .success(try await executor.failedOverProviders())
            } catch { found[target] = .failure(Custody.ReadFailure(error.description)) }
        }
        return commands + replica.handle(.ownershipRead(found), at: now)
    }

    /// The replica crashed (a restart on the same journal) or lost the Lease (another pod, its
    /// own journal, takes over from the secret's metadata).
    private mutating func replaceReplica() {
        let crash = faults.contains {
            if case .crash = $0 { return true }
            return false
        }
        replicas += 1
        let path = crash ? replica.journalPath : world.directory + "/journal-\(replicas).sqlite"
        trace.append("t=\(Int(now)): \(crash ? "crashed; restarting on the same journal" : "lost the Lease; replica \(replicas) leads")")
        pages = [:]
        do { replica = try Replica(world: world, journalPath: path, lease: LeaseBudget()) } catch {
            violations.append("t=\(Int(now)): the next replica did not start: \(error)")
        }
    }
}
