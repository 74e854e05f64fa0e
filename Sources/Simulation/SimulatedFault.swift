import ControlSimulators
import Scenarios

/// A fault the simulation injects into the world the agent acts on, drawn from the seed. Those
/// that catch requests are armed afresh every turn until the faults are healed; standing ones are
/// put in place at the start and taken away at the heal.
public enum SimulatedFault: Sendable, Equatable, CustomStringConvertible {
    /// A write carried out whose answer is lost (a proxy's 502).
    case lostAnswer(Write)
    /// The next requests to Vault or GitLab answer 5xx.
    case serverErrors(System, count: Int)
    /// GitLab's next requests answer 429 with `Retry-After`.
    case rateLimited(count: Int, retryAfter: Int)
    /// The next requests to Vault or GitLab answer `seconds` late (within the client's timeout):
    /// the clock moves on by that much as each is answered.
    case slowAnswers(System, count: Int, seconds: Int)
    /// The Vault policy loses `patch` on the metadata: the agent must take the guarded whole-map write.
    case vaultWithoutPatch
    /// The token's user drops to Reporter on the deploy project: readiness fails, nothing may be written.
    case roleWithdrawn
    /// The Vault policy loses `update` and `create` on the data: readiness fails, nothing may be written.
    case vaultReadOnly
    /// `main` moves as the incident starts and as it ends: a newer pipeline whose production deploy is in this state.
    case mainMoves(Main)
    /// The replica dies after the world took `afterWrites` writes (between any two of an action's
    /// writes); it restarts on the same journal.
    case crash(afterWrites: Int)
    /// The leader loses the Lease after the world took `afterWrites` writes; another replica, with
    /// its own journal, takes the lead and settles from the secret's metadata.
    case leaderChange(afterWrites: Int)
    /// Every provider's probes fail without an answer for a while (the agent's own network): blind.
    case blind(from: Double, seconds: Double)
    /// The gateway's Prometheus, the agent's traffic source, in trouble for a while. A run with
    /// this fault has a traffic source; the others have none.
    case traffic(PrometheusSimulator.Trouble, from: Double, seconds: Double)

    /// A write the agent makes.
    public enum Write: String, Sendable, CaseIterable {
        case jobRetry, changeRequest, note, expeditedVariable, vaultWrite, closeIssue, variableRemoval, metadata
    }

    public enum System: String, Sendable { case vault, gitlab }

    /// How `main` stands when an action starts.
    public enum Main: String, Sendable, CaseIterable {
        /// A newer pipeline's production deploy has not started yet.
        case newerDeployPending
        /// A newer pipeline's production deploy is running: it read the secret before the write.
        case newerDeployRunning
        /// The newer pipeline's production trigger waits for a person.
        case manual
        /// The newer pipeline's production deploy fails.
        case newerDeployFails
    }

    public var description: String {
        switch self {
        case .lostAnswer(let write): "lost-answer(\(write.rawValue))"
        case .serverErrors(let system, let count): "\(system.rawValue)-5xx(\(count))"
        case .rateLimited(let count, let retryAfter): "gitlab-429(\(count), retry-after \(retryAfter) s)"
        case .slowAnswers(let system, let count, let seconds): "\(system.rawValue)-slow(\(count) × \(seconds) s)"
        case .vaultWithoutPatch: "vault-without-patch"
        case .roleWithdrawn: "role-withdrawn"
        case .vaultReadOnly: "vault-read-only"
        case .mainMoves(let main): "main-moves(\(main.rawValue))"
        case .crash(let after): "crash(after \(after))"
        case .leaderChange(let after): "leader-change(after \(after))"
        case .blind(let from, let seconds): "blind(at \(Int(from)) s for \(Int(seconds)) s)"
        case .traffic(let trouble, let from, let seconds): "prometheus-\(trouble.rawValue)(at \(Int(from)) s for \(Int(seconds)) s)"
        }
    }

    /// Whether readiness must fail while it stands: then the agent may write nothing.
    var withholdsAbility: Bool { self == .roleWithdrawn || self == .vaultReadOnly }

    /// A traffic source's trouble, drawn from `random`, around the incident's start.
    static func drawTraffic(using random: inout SplitMix64, incidentStart: Double) -> SimulatedFault {
        .traffic(
            PrometheusSimulator.Trouble.allCases.randomElement(using: &random)!,
            from: max(0, incidentStart + Double.random(in: -60...300, using: &random)),
            seconds: Double.random(in: 60...600, using: &random).rounded())
    }

    /// Slow answers of Vault or GitLab, drawn from `random`.
    static func drawSlow(using random: inout SplitMix64) -> SimulatedFault {
        .slowAnswers(
            random.chance(0.5) ? .vault : .gitlab, count: Int.random(in: 1...3, using: &random),
            seconds: Int.random(in: 5...60, using: &random))
    }

    /// One to three faults, drawn from `random`.
    static func draw(using random: inout SplitMix64, incidentStart: Double) -> [SimulatedFault] {
        var faults: [SimulatedFault] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let fault: SimulatedFault
            switch Int.random(in: 0..<10, using: &random) {
            case 0, 1: fault = .lostAnswer(Write.allCases.randomElement(using: &random)!)
            case 2: fault = .serverErrors(random.chance(0.5) ? .vault : .gitlab, count: Int.random(in: 1...3, using: &random))
            case 3: fault = .rateLimited(count: Int.random(in: 1...2, using: &random), retryAfter: Int.random(in: 0...30, using: &random))
            case 4: fault = random.chance(0.5) ? .vaultWithoutPatch : (random.chance(0.5) ? .roleWithdrawn : .vaultReadOnly)
            case 5: fault = .mainMoves(Main.allCases.randomElement(using: &random)!)
            case 6, 7: fault = .crash(afterWrites: Int.random(in: 1...16, using: &random))
            case 8: fault = .leaderChange(afterWrites: Int.random(in: 1...16, using: &random))
            default:
                fault = .blind(
                    from: incidentStart + Double.random(in: -120...300, using: &random),
                    seconds: Double.random(in: 60...400, using: &random))
            }
            if !faults.contains(fault) { faults.append(fault) }
        }
        return faults
    }
}
