import Agent
import ControlAPI
import ControlSimulators
import Lifecycle
import ProbeResults
import Probing
import Timekeeping

/// Plays one simulated run: turns the replica's real ``AgentLoop`` once a virtual second (inline:
/// each turn carries out everything it starts — probes answered from the incident, actions
/// through the real executor and clients against the simulated world), and checks the invariants
/// after every turn that changed the world. A crash or a change of leader drops the replica
/// between two writes; the next one starts from the journal file or the secret's metadata.
struct Driver {
    let world: SimulatedWorld
    let incident: Simulation.Incident
    let faults: [SimulatedFault]
    /// `propose`: a person approves each proposal half a minute after its page.
    let mode: ActionMode
    private(set) var violations: [String] = []
    private(set) var trace: [String] = []
    private var replica: Replica
    private var replicas = 1
    /// Pages this replica sent start at this index of what the sink received. A new process keeps
    /// no memory of the last one's pages: after a crash or a change of leader it pages what it
    /// sees again, under the same dedup key (which PagerDuty merges).
    private var firstPage = 0
    private var pagesSeen = 0
    /// The last page this replica sent per dedup key.
    private var lastPage: [String: String] = [:]
    private var healed = false
    private var writesSeen = 0
    private var actionsSeen = 0
    private var moves = 0
    /// Turns in a row that began with the world blind.
    private var blindTurns = 0
    private var drillsSeen: [String: String?] = [:]
    /// Proposals seen open (when first), and approvals whose write is yet to be checked: the
    /// secret's version count when approved, and the value the proposal pinned.
    private var proposalsSeen: [String: Double] = [:]
    private var approvals: [(id: String, versions: Int, intended: String)] = []

    init(world: SimulatedWorld, incident: Simulation.Incident, faults: [SimulatedFault], mode: ActionMode) throws {
        (self.world, self.incident, self.faults, self.mode) = (world, incident, faults, mode)
        let strike = faults.lazy.compactMap { fault -> Int? in
            switch fault {
            case .crash(let after), .leaderChange(let after): after
            default: nil
            }
        }.first
        replica = try Replica(
            world: world, journalPath: world.directory + "/journal-1.sqlite", lease: LeaseBudget(world: world, writes: strike), mode: mode,
            probe: Self.probe(incident, faults, clock: world.clock))
        world.prometheus?.setFailureRate { [incident] provider, at in
            provider == incident.provider && (incident.start..<incident.end).contains(at) ? 1 : 0.002
        }
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
            // Blind as the agent could know it: the world blind for enough turns to tell, or the agent saying so.
            blindTurns = Self.blind(faults, at: now) ? blindTurns + 1 : 0
            let sees = await replica.loop.status()["blind"]?.bool != true
            let blind = blindTurns > Self.blindDetection || !sees
            let before = world.secret
            if !healed {
                // Each turn meets each request fault at most once: armed afresh.
                world.disarm()
                for fault in faults { world.arm(fault) }
            }
            // `main` moves as the incident starts and as it ends, before the failover and before the restore.
            for (index, at) in [incident.start, incident.end].enumerated() where moves < index + 1 && now >= at {
                moves += 1
                for case .mainMoves(let main) in faults { world.move(main) }
            }
            world.prometheus?.setTrouble(healed ? nil : Self.trouble(faults, at: now))
            await replica.loop.step()
            if mode == .propose { await approveProposals() }
            await afterTurn(blindBefore: blind, secretBefore: before)
            world.clock.advance(by: .seconds(1))
        }
        let open = await replica.runner.openIntents().count
        violations += Invariants.atEnd(world, openIntents: open, failoversWritten: failoverEpisodes)
        // A traffic source in trouble for five minutes or more is paged (its first two minutes
        // may be its start-up grace, and a stale one shows only after `stale_after`).
        for case .traffic(let trouble, _, let seconds) in faults where seconds >= 300 {
            let paged = world.pagers.received.contains {
                $0.body["payload"]?["summary"]?.string?.hasPrefix("Traffic evidence distrusted") == true
            }
            if !paged { violations.append("the traffic source was \(trouble.rawValue) for \(Int(seconds)) s, and no page said so") }
        }
    }

    /// The traffic source's trouble at `now`, if any.
    static func trouble(_ faults: [SimulatedFault], at now: Double) -> PrometheusSimulator.Trouble? {
        for case .traffic(let trouble, let from, let seconds) in faults where (from..<from + seconds).contains(now) { return trouble }
        return nil
    }

    /// Checks what the turn left when it changed the world, and replaces a replica that is gone.
    private mutating func afterTurn(blindBefore: Bool, secretBefore: String?) async {
        let actions = await replica.loop.actionsDone
        for report in actions.dropFirst(actionsSeen) {
            let sha = report.deploySHA.map { " (deployed \($0))" } ?? ""
            let action = report.kind.map { "\($0.rawValue) of \(report.provider ?? "?") on " } ?? ""
            trace.append("t=\(Int(now)): \(action)\(report.target): \(report.outcome.summary)\(sha)")
        }
        actionsSeen = actions.count
        for (target, record) in await replica.loop.drills where record.lastResult != drillsSeen[target] {
            drillsSeen[target] = record.lastResult
            if let result = record.lastResult { trace.append("t=\(Int(now)): \(result)") }
        }
        checkPages()
        guard world.writes != writesSeen else { return }
        writesSeen = world.writes
        let at = "t=\(Int(now)): "
        if blindBefore, secretBefore == SimulatedWorld.original, world.secret != SimulatedWorld.original {
            violations.append(at + "failed over while blind")
        }
        if !healed, faults.contains(where: \.withholdsAbility), world.history.count > 1 || !world.gitlab.retries.isEmpty {
            violations.append(at + "wrote while a readiness check it needs failed")
        }
        violations += Invariants.afterWrite(world).map { at + $0 }
        if replica.lease.gone { return replaceReplica() }
        // Expedited deploys stand while a failover does, and go with its restore.
        if world.secret == SimulatedWorld.original, !world.gitlab.variables.isEmpty, await replica.runner.openIntents().isEmpty {
            violations.append(at + "the expedited variable is still set with nothing failed over and nothing under way")
        }
    }

    /// Approves each open proposal half a minute after it was first seen, as a person would, and
    /// keeps what it pinned: the approved action writes exactly that, or nothing.
    private mutating func approveProposals() async {
        for proposal in await replica.loop.status()["open_proposals"]?.array ?? [] {
            guard let id = proposal["id"]?.string else { continue }
            guard let seen = proposalsSeen[id] else {
                proposalsSeen[id] = now
                continue
            }
            guard now - seen >= 30, seen >= 0 else { continue }
            proposalsSeen[id] = -1
            let record = try? await replica.runner.journal.proposal(id)
            let pinned = record.flatMap { JSONValue.parse(Array($0.plan.utf8))?["targets"]?.array?.first?["intended"]?.string }
            let answer = await replica.loop.approve(id)
            // Proposal ids are random (they are what a person types): the trace leaves them out, so a seed replays the same.
            let accepted = if case .accepted = answer { true } else { false }
            trace.append("t=\(Int(now)): approved a proposal: \(accepted ? "accepted" : "refused")")
            // Refused while the proposal stays open (paused, blind): the person approves again half a minute later.
            if !accepted { proposalsSeen[id] = now }
            if case .accepted = answer, let pinned { approvals.append((id, world.history.count, pinned)) }
        }
        for approval in approvals where world.history.count > approval.versions {
            let written = world.history[approval.versions]
            if written != approval.intended, !(approval.intended.isEmpty && written == nil) {
                violations.append(
                    "t=\(Int(now)): proposal \(approval.id) approved \(approval.intended) but the write was \(written ?? "nil")")
            } else {
                trace.append("t=\(Int(now)): the approved proposal written byte for byte")
            }
        }
        approvals.removeAll { world.history.count > $0.versions }
    }

    /// Times the secret went from the original to an override of the agent's.
    private var failoverEpisodes: Int {
        let history = world.history
        return zip(history, history.dropFirst()).filter { $0.0 == SimulatedWorld.original && $0.1 != SimulatedWorld.original }.count
    }

    /// At most one page per state change: the same page twice in a row under one dedup key is one too many.
    private mutating func checkPages() {
        let received = world.pagers.received
        for page in received.dropFirst(max(firstPage, pagesSeen)) {
            let key = page.body["dedup_key"]?.string ?? ""
            let said = [page.body["event_action"]?.string, page.body["payload"]?["summary"]?.string].compactMap { $0 }.joined(
                separator: " ")
            if lastPage[key] == said { violations.append("t=\(Int(now)): paged twice for one state change: \(key): \(said.prefix(120))") }
            lastPage[key] = said
        }
        pagesSeen = received.count
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
        (firstPage, actionsSeen, lastPage) = (world.pagers.received.count, 0, [:])
        do {
            replica = try Replica(
                world: world, journalPath: path, lease: LeaseBudget(world: world), mode: mode,
                probe: Self.probe(incident, faults, clock: world.clock))
        } catch { violations.append("t=\(Int(now)): the next replica did not start: \(error)") }
    }

    /// How many turns the agent may take to tell it is blind: a probe of most providers failing
    /// without an answer, each provider probed every 5 s (turns, not seconds: work a turn runs
    /// inline holds the probes up). A write decided before was decided on what it saw (seed 410:
    /// a provider already suspect for its incident tipped into failing on the first blind probe;
    /// seed 531: a readiness check waiting out a 429 in the turn the blindness began).
    static let blindDetection = 15

    /// Every provider's probes fail without an answer while a blind fault stands.
    static func blind(_ faults: [SimulatedFault], at now: Double) -> Bool {
        faults.contains {
            if case .blind(let from, let seconds) = $0 { return (from..<from + seconds).contains(now) }
            return false
        }
    }

    /// What each endpoint's probe answers at the clock's time: the incident's provider 503s
    /// during it, every probe fails to connect while blind, the rest answer.
    static func probe(_ incident: Simulation.Incident, _ faults: [SimulatedFault], clock: VirtualClock)
        -> @Sendable (ProbeSpec) async
        -> ProbeResult
    {
        { spec in
            let now = clock.seconds
            if blind(faults, at: now) {
                return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .connect, curlError: "CURLE_COULDNT_CONNECT")
            }
            if spec.provider == incident.provider, (incident.start..<incident.end).contains(now) {
                return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .http5xx, status: 503, ttfbMs: 40, totalMs: 40)
            }
            return ProbeResult(provider: spec.provider, probe: spec.name, resultClass: .ok, status: 200, ttfbMs: 300, totalMs: 900)
        }
    }
}
