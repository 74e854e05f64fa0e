/// Carrying a written secret to production while `main` moves, pure: what GitLab answers goes
/// in, the next request comes out. Each round reads what production runs and what is on its way
/// and follows ``DeployDecision`` — retry the production pipeline's trigger, follow a newer deploy
/// that reads the secret when it starts, or wait for a newer deploy that read it before the write
/// and then decide again — until a deploy that carries the write has ended, at most four rounds.
/// Resumed after a restart or a handover, the retry an earlier run made is followed first.
public struct DeployMachine: Sendable, Equatable {
    public enum Request: Sendable, Equatable {
        /// Find the retry an earlier run made of the carrier job (journaled, or a newer try of it).
        case findEarlierRetry
        /// Read what GitLab shows and decide; `startedBeforeWrite` as ``DeployDecision/decide(_:startedBeforeWrite:)`` takes it.
        case look(startedBeforeWrite: Set<Int>?)
        /// Journal the round's decision and note it on the change request.
        case announce(round: Int, DeployDecision)
        /// Record this pipeline's trigger as the job the write is carried by (secret metadata, journal).
        case recordCarrier(DeployFacts.Candidate)
        /// Retry this trigger job (once, whatever answers are lost) and follow it to its end.
        case retry(DeployFacts.Candidate)
        /// Set the expedited strategy and wait for this newer pipeline's production deploy to start.
        case awaitStart(DeployFacts.Candidate)
        /// Follow a deploy in `pipeline` to its end. `carries`: the deploy of the write, the job the
        /// last answer gave (its downstream pipeline is journaled); else the pipeline's trigger, waited for.
        case follow(pipeline: DeployFacts.Candidate, carries: Bool)
        case finish(Outcome)
    }

    /// What the last request came to.
    public enum Answer: Sendable, Equatable {
        /// `findEarlierRetry`: whether a retry was made.
        case earlierRetry(found: Bool)
        /// `look`: the decision, and the pipelines whose production deploy had started.
        case looked(DeployDecision, started: Set<Int>)
        /// `announce`, `recordCarrier`: done.
        case done
        /// `retry`: GitLab refused it and no try of the job exists.
        case retryRefused(String)
        /// `awaitStart`: the deploy started (then followed); or it did not within this long.
        case started
        case notStarted(within: String)
        /// `retry`, `follow`: the deploy ended; `failed` says why when it did not succeed, `failureReason` is GitLab's.
        case ended(failed: String?, failureReason: String?)
    }

    public enum Outcome: Sendable, Equatable {
        /// The deploy that carries the write ended (the last `ended` answer says how), in this pipeline.
        case ended(pipeline: DeployFacts.Candidate)
        /// A newer pipeline's deploy, the only one that could carry it, did not start in time.
        case notStarted(String)
        /// The first retry was refused and no try of the job exists: no deploy started.
        case retryRefused(String)
        /// No deploy can carry the change now; the secret holds it.
        case refused(String)
        /// Every round spent.
        case gaveUp(String)
    }

    /// A pipeline's trigger job that carries the write.
    public struct Carrier: Sendable, Equatable {
        public var pipeline: Int
        public var job: Int
        public init(pipeline: Int, job: Int) { (self.pipeline, self.job) = (pipeline, job) }
    }

    /// What a followed deploy's end leads to.
    private enum Then: Sendable, Equatable {
        /// The retry an earlier run made: it is the action's deploy, however it ended.
        case end
        /// A newer deploy started after the write: it carries it, unless it failed.
        case endUnlessFailed
        /// A deploy that read the secret before the write: decide again once it ended.
        case decideAgain
    }

    private enum Phase: Sendable, Equatable {
        case findingEarlier, looking, announcing(DeployDecision), recording(DeployFacts.Candidate),
            retrying(DeployFacts.Candidate), awaiting(DeployFacts.Candidate), following(DeployFacts.Candidate, then: Then),
            finished(Outcome)
    }

    public static let rounds = 4
    public private(set) var round = 0
    /// The job the write is carried by, as recorded (the checked one until a later round retries another).
    public private(set) var carrier: Carrier?
    private var startedBeforeWrite: Set<Int>?
    private var phase: Phase
    private let resumedIn: DeployFacts.Candidate?

    /// `carrier`: the checked pipeline and trigger job. `resumed`: after a restart or handover (the
    /// write was made by an earlier run), whose retry is looked for first. `startedBeforeWrite`:
    /// recorded with the checks; resumed without it, whatever has started by the first look is
    /// taken to have read the old secret.
    public init(carrier: DeployFacts.Candidate?, resumed: Bool, startedBeforeWrite: Set<Int>?) {
        self.carrier = carrier.flatMap { candidate in candidate.trigger.map { Carrier(pipeline: candidate.pipeline, job: $0.job) } }
        self.startedBeforeWrite = startedBeforeWrite
        resumedIn = resumed && carrier?.trigger != nil ? carrier : nil
        phase = resumedIn == nil ? .looking : .findingEarlier
        if resumedIn == nil { round = 1 }
    }

    /// The request to carry out now.
    public var request: Request {
        switch phase {
        case .findingEarlier: .findEarlierRetry
        case .looking: .look(startedBeforeWrite: startedBeforeWrite)
        case .announcing(let decision): .announce(round: round, decision)
        case .recording(let candidate): .recordCarrier(candidate)
        case .retrying(let candidate): .retry(candidate)
        case .awaiting(let candidate): .awaitStart(candidate)
        case .following(let candidate, let then): .follow(pipeline: candidate, carries: then != .decideAgain)
        case .finished(let outcome): .finish(outcome)
        }
    }

    /// Feeds back what the current request came to; returns the next one.
    @discardableResult
    public mutating func answered(_ answer: Answer) -> Request {
        phase = step(phase, answer)
        return request
    }

    private mutating func step(_ phase: Phase, _ answer: Answer) -> Phase {
        switch (phase, answer) {
        case (.findingEarlier, .earlierRetry(true)):
            return resumedIn.map { .following($0, then: .end) } ?? nextRound()
        case (.findingEarlier, .earlierRetry(false)):
            return nextRound()
        case (.looking, .looked(.refuse(let why), _)):
            return .finished(.refused(why + "; the secret holds the change, and no deploy can carry it now"))
        case (.looking, .looked(let decision, let started)):
            // Whatever had started by the first look after the write may have read the old secret.
            startedBeforeWrite = startedBeforeWrite ?? started
            return .announcing(decision)
        case (.announcing(let decision), .done):
            return decided(decision)
        case (.recording(let candidate), .done):
            carrier = candidate.trigger.map { Carrier(pipeline: candidate.pipeline, job: $0.job) }
            return .retrying(candidate)
        case (.retrying, .retryRefused(let why)):
            // GitLab refuses an outdated deployment once production moved on: decide again.
            if why.lowercased().contains("outdated") { return nextRound() }
            return .finished(round == 1 ? .retryRefused(why) : .refused(why + "; the secret holds the change"))
        case (.retrying(let candidate), .ended(_, let failureReason)):
            // Failed by GitLab as an outdated deployment: decide again.
            return failureReason == "forward_deployment_failure" ? nextRound() : .finished(.ended(pipeline: candidate))
        case (.awaiting(let candidate), .started):
            return .following(candidate, then: .endUnlessFailed)
        case (.awaiting(let candidate), .notStarted(let within)):
            return .finished(
                .notStarted(
                    "the production deploy of the newer pipeline #\(candidate.pipeline) did not start within \(within): the secret "
                        + "holds the change, and that deploy (or the next one) carries it when it runs; a retry of an older pipeline "
                        + "would race it"))
        case (.following(let candidate, let then), .ended(let failed, _)):
            switch then {
            case .end: return .finished(.ended(pipeline: candidate))
            case .endUnlessFailed where failed == nil: return .finished(.ended(pipeline: candidate))
            case .endUnlessFailed, .decideAgain: return nextRound()
            }
        default:
            return .finished(.refused("the deploy step was answered \(answer) while it was \(phase)"))
        }
    }

    private mutating func decided(_ decision: DeployDecision) -> Phase {
        switch decision {
        case .retry(let candidate, _):
            guard let trigger = candidate.trigger else {
                return .finished(.refused("pipeline #\(candidate.pipeline) has no production trigger job to retry"))
            }
            return carrier == Carrier(pipeline: candidate.pipeline, job: trigger.job) ? .retrying(candidate) : .recording(candidate)
        case .follow(let candidate, _):
            return .awaiting(candidate)
        case .wait(let candidate, _):
            return candidate.trigger == nil ? nextRound() : .following(candidate, then: .decideAgain)
        case .refuse:
            return nextRound()  // answered at the look
        }
    }

    private mutating func nextRound() -> Phase {
        guard round < Self.rounds else {
            return .finished(.gaveUp("no deploy carried the change after \(Self.rounds) rounds of deciding; the secret holds it"))
        }
        round += 1
        return .looking
    }
}
