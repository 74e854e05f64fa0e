import ControlAPI
import Synchronization
import Testing

/// ``sendOnce``: a request that must not happen twice is sent again only when reading shows it
/// was not carried out (closures stand for the request and the read; the HTTP behaviour is tested
/// against the simulators in HandoverTests and LostAnswerTests).
struct SendOnceTests {
    final class World: Sendable {
        let carriedOut = Mutex(0)
        let sends = Mutex(0)
        let settlements = Mutex<[Settlement]>([])
    }

    /// `answers`: how each send goes (true: carried out and answered; false: carried out, answer
    /// lost; nil: lost before it was carried out).
    func run(_ world: World, answers: [Bool?], refuseWhenDone: Bool = false, readFails: Bool = false) async throws(ControlError) -> Int {
        try await sendOnce(
            "the request",
            send: { () async throws(ControlError) -> Int in
                let attempt = world.sends.withLock {
                    $0 += 1
                    return $0
                }
                if refuseWhenDone, world.carriedOut.withLock({ $0 }) > 0 { throw .refused("already done") }
                let answer = attempt <= answers.count ? answers[attempt - 1] : true
                if answer != nil { world.carriedOut.withLock { $0 += 1 } }
                guard answer == true else { throw .unknownOutcome("HTTP 502") }
                return world.carriedOut.withLock { $0 }
            },
            find: { () async throws(ControlError) -> Int? in
                if readFails { throw .unavailable("GitLab is down") }
                return world.carriedOut.withLock { $0 > 0 ? $0 : nil }
            },
            alreadyDone: { if case .refused = $0 { true } else { false } },
            describe: { "#\($0)" }, settled: { settlement in world.settlements.withLock { $0.append(settlement) } })
    }

    @Test func aLostAnswerOfARequestCarriedOutIsFoundNotSentAgain() async throws {
        let world = World()
        #expect(try await run(world, answers: [false]) == 1)
        #expect(world.sends.withLock { $0 } == 1 && world.carriedOut.withLock { $0 } == 1)
        #expect(world.settlements.withLock { $0.map(\.found) } == ["carried out: #1"])
    }

    @Test func aRequestLostBeforeItWasCarriedOutIsSentAgain() async throws {
        let world = World()
        #expect(try await run(world, answers: [nil, nil, true]) == 1)
        #expect(world.sends.withLock { $0 } == 3 && world.carriedOut.withLock { $0 } == 1)
        #expect(world.settlements.withLock { $0.map(\.found) } == ["not carried out: sent again", "not carried out: sent again"])
    }

    @Test func aRefusalAsDoneBeforeIsSettledByReading() async throws {
        let world = World()
        world.carriedOut.withLock { $0 = 1 }  // done by an earlier try (or a person)
        #expect(try await run(world, answers: [], refuseWhenDone: true) == 1)
        #expect(world.settlements.withLock { $0.first?.found } == "carried out before: #1")
    }

    @Test func aRefusalWithNothingDoneIsTheRefusal() async throws {
        do {
            _ = try await sendOnce(
                "the request", send: { () async throws(ControlError) -> Int in throw .refused("no") },
                find: { () async throws(ControlError) -> Int? in nil }, alreadyDone: { _ in true }, describe: { "\($0)" },
                settled: { _ in })
            Issue.record("a refusal was taken for success")
        } catch { #expect(error == .refused("no")) }
    }

    @Test func anOutcomeThatCannotBeReadStaysUnknownAndIsNotSentAgain() async throws {
        let world = World()
        do {
            _ = try await run(world, answers: [false], readFails: true)
            Issue.record("an unknown outcome was taken for success")
        } catch {
            guard case .unknownOutcome(let why) = error else { throw error }
            #expect(why.contains("reading whether it was carried out failed"))
        }
        #expect(world.sends.withLock { $0 } == 1)
    }

    @Test func givingUpAfterEveryAttemptIsLostBeforeCarryingOut() async throws {
        let world = World()
        do {
            _ = try await run(world, answers: [nil, nil, nil])
            Issue.record("it should give up")
        } catch {
            guard case .unavailable(let why) = error else { throw error }
            #expect(why.contains("not carried out after 3 attempts"))
        }
        #expect(world.carriedOut.withLock { $0 } == 0)
    }

    /// The machine alone, answer by answer: what each answer leads to and what is settled.
    @Test func theMachineSaysWhatEachAnswerLeadsTo() {
        typealias M = SendOnceMachine
        func play(_ answers: [M.Answer], attempts: Int = 3) -> [String] {
            var machine = M("retry of job #3", attempts: attempts)
            return answers.map { answer in
                let (settlement, next) = machine.next(after: answer)
                return "\(next)" + (settlement.map { " [\($0.found)]" } ?? "")
            }
        }
        #expect(play([.answered]) == ["done"])
        #expect(play([.lost("HTTP 502"), .found("job #7")]) == ["read", "done [carried out: job #7]"])
        #expect(
            play([.lost("HTTP 502"), .found(nil), .lost("timeout"), .found(nil), .answered]) == [
                "read", "send [not carried out: sent again]", "read", "send [not carried out: sent again]", "done",
            ])
        #expect(
            play([.lost("a"), .found(nil), .lost("b"), .found(nil), .lost("c"), .found(nil)]).last
                == #"givenUp("retry of job #3: not carried out after 3 attempts (last: c)") [not carried out: given up]"#)
        #expect(play([.lost("a"), .found(nil)], attempts: 1).last?.hasPrefix("givenUp") == true, "one attempt: never sent twice")
        #expect(
            play([.refused("403 Job is not retryable", alreadyDone: true), .found("job #9")]) == [
                "read", "done [carried out before: job #9]",
            ])
        #expect(play([.refused("403 Job is not retryable", alreadyDone: true), .found(nil)]) == ["read", "rethrow"])
        #expect(play([.refused("404", alreadyDone: false)]) == ["rethrow"], "a plain refusal is not read")
        #expect(play([.lost("HTTP 502"), .readFailed("GitLab 503")]).last?.hasPrefix("unknownOutcome") == true)
        #expect(play([.found("job #1")]).last?.hasPrefix("unknownOutcome") == true, "a read's answer before any send is no answer")
    }
}
