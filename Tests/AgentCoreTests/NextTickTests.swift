import AgentCore
import Testing

/// The loop has no tick of its own: it sleeps until the core's ``AgentCore/nextTick`` or the next
/// of its ``Duties``. These say that sleep misses nothing and wakes for something.
@Suite struct NextTickTests {
    /// Halfway to `nextTick` a tick has nothing to do; at `nextTick` it has (probes, reads,
    /// settlements): a minute of probing, answered at once, with the records read after a failure.
    @Test func aTickHasWorkAtNextTickAndNoneBefore() {
        var driver = EventDriver()
        _ = driver.send(.leadership(true, leaderPaused: nil))
        var (probes, reads) = (0, 0)
        while driver.now < 60 {
            let next = driver.core.nextTick
            #expect(next.isFinite)
            if next > driver.now { #expect(driver.send(.tick, after: (next - driver.now) / 2).isEmpty, "nothing due before \(next)") }
            let commands = driver.send(.tick, after: max(0, next - driver.now))
            #expect(!commands.isEmpty, "something due at \(next)")
            for command in commands {
                switch command {
                case .probe(let endpoints):
                    for endpoint in endpoints { _ = driver.probe(endpoint, .ok, after: 0) }
                    probes += endpoints.count
                case .readOwnership(let targets):
                    reads += 1
                    // The first read fails: the second comes after its backoff, a second later.
                    let result: Result<[String], Custody.ReadFailure> = reads == 1 ? .failure(.init("Vault 503")) : .success([])
                    _ = driver.send(.ownershipRead(Dictionary(uniqueKeysWithValues: targets.map { ($0, result) })))
                default: break
                }
            }
        }
        #expect(reads == 2)
        #expect(probes >= 3 * 5, "every provider probed on its cadence: \(probes)")
    }

    /// An open proposal's expiry is a timer; so is a part-way failure's settlement.
    @Test func proposalsAndSettlementsAreTimers() {
        var driver = EventDriver(mode: .propose)
        _ = driver.send(.leadership(true, leaderPaused: nil))
        _ = driver.send(.ownershipRead(["aigw-production": .success([])]))
        driver.core.opened(id: "p1", kind: .failover, provider: "vertex", target: "aigw-production", at: driver.now)
        let expires = driver.now + driver.core.settings.proposalLifetime
        #expect(driver.core.nextTick <= expires)
        let failed = ActionFinished(kind: .failover, provider: "vertex", target: "aigw-production", outcome: .failed("Vault 503"))
        _ = driver.send(.finished(failed))
        #expect(driver.core.nextTick <= driver.now + 1, "settled again after 1 s")
        let atExpiry = driver.send(.tick, after: expires - driver.now)
        #expect(EventDriver.alerts(atExpiry).contains { $0.summary.contains("expired unapproved") })
    }
}

@Suite struct DutiesTests {
    /// Each duty recurs on its interval; a traffic reading under way is not due again, and is no
    /// reason to wake, until it ends.
    @Test func dutiesRecurAndATrafficReadingWaitsForTheLastOne() {
        var duties = Duties(readinessInterval: 300, trafficInterval: 15, drills: true)
        #expect(Set(duties.due(at: 0)) == [.checkReadiness, .readTraffic, .drills])
        #expect(duties.due(at: 10).isEmpty)
        #expect(duties.due(at: 15).isEmpty, "the reading started at 0 has not ended")
        #expect(duties.nextDue == 60, "and waking for it would spin: the next is the drills' minute")
        duties.trafficRead()
        #expect(duties.nextDue == 15)
        #expect(duties.due(at: 16) == [.readTraffic])
        #expect(duties.due(at: 60) == [.drills])
        #expect(duties.due(at: 300).contains(.checkReadiness))
    }
}
