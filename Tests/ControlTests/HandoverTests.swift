import Actions
import Selection
import Synchronization
import Testing

/// An action cut short — the replica died or lost its Lease, or an answer never came — is
/// recorded in the secret's metadata, so whoever acts next settles it: puts the record back if
/// the write never happened, else finishes the redeploy it owes, never writing or retrying twice.
@Suite(.serialized) struct HandoverTests {
    struct Died: Error {}

    /// A replica that gives up on a call after 1 s, without retrying: it is cut short at a hang.
    func shortLived(_ rig: Rig) throws -> TargetExecutor { try rig.replica(timeout: .seconds(1), retries: 0) }

    @Test func aRedeployOwedByADeadLeaderIsFinishedOnceByTheNext() async throws {
        let rig = try await Rig.start()
        var dying = try rig.replica()
        dying.onStep = { step in if case .secretWritten = step { throw Died() } }
        guard case .failed = await dying.failover(provider: "vertex", apply: true).outcome else {
            Issue.record("it should have died")
            return
        }
        #expect(rig.secret.version == 2 && rig.gitlab.retries.isEmpty)
        let pending = try #require(rig.ownership.pending)
        #expect(
            pending.action == "failover" && pending.provider == "vertex" && pending.job == 3 && pending.write == nil,
            "only the redeploy is owed")
        #expect(rig.ownership.providers == ["vertex"] && rig.ownership.writtenVersion == 2)

        let next = try rig.replica()
        let settled = try #require(await next.settlePending(healthy: ["vertex", "bedrock", "anthropic"]))
        #expect(settled.outcome == .deployed)
        #expect(rig.gitlab.retries == [3] && rig.secret.version == 2, "one retry, no second write")
        #expect(rig.ownership.pending == nil && rig.ownership.providers == ["vertex"])
        #expect(await next.settlePending(healthy: ["vertex", "bedrock", "anthropic"])?.outcome == nil, "nothing left")
        #expect(await next.restore(provider: "vertex", apply: true).outcome == .deployed)
        #expect(rig.secret.value == Rig.original && rig.vault.customMetadata(Rig.path).isEmpty)
        await rig.stop()
    }

    @Test func aWriteThatNeverHappenedIsPutBack() async throws {
        let rig = try await Rig.start()
        rig.vault.hang("POST", "/data/", carriedOut: false)
        guard case .failed = try await shortLived(rig).failover(provider: "vertex", apply: true).outcome else {
            Issue.record("it should have timed out")
            return
        }
        #expect(rig.secret.version == 1)
        #expect(rig.ownership.pending?.write?.casVersion == 1, "the write-ahead record names the version the write was checked against")
        rig.vault.hang("POST", nil, carriedOut: false)
        let settled = try #require(await rig.replica().settlePending(healthy: ["vertex", "bedrock", "anthropic"]))
        guard case .nothingToDo(let why) = settled.outcome else {
            Issue.record("\(settled.outcome)")
            return
        }
        #expect(why.contains("stopped before its secret write"))
        #expect(rig.untouched(), "the record is put back: nothing owned, written or retried")
        await rig.stop()
    }

    @Test func aWriteThatLandedUnansweredIsSettledByReadingAndDeployed() async throws {
        let rig = try await Rig.start()
        rig.vault.hang("POST", "/data/", carriedOut: true)
        var next = try shortLived(rig)
        let journaled = Mutex<[String]>([])
        next.onStep = { step in journaled.withLock { $0.append("\(step.name): \(step.detail)") } }
        #expect(await next.failover(provider: "vertex", apply: true).outcome == .deployed)
        let steps = journaled.withLock { $0 }
        #expect(
            steps.contains { $0.hasPrefix("unknown-outcome:") && $0.contains("settled by reading: carried out: version 2") }, "\(steps)")
        rig.vault.hang("POST", nil, carriedOut: true)
        #expect(
            rig.ownership.providers == ["vertex"] && rig.ownership.baseVersion == 1 && rig.ownership.writtenVersion == 2
                && rig.ownership.pending == nil)
        #expect(rig.gitlab.retries == [3] && rig.secret.version == 2)
        #expect(await next.restore(provider: "vertex", apply: true).outcome == .deployed)
        #expect(rig.secret.value == Rig.original, "restored byte for byte: the version it replaced is known")
        await rig.stop()
    }

    @Test func aPersonsWriteInTheWindowIsNotTakenForTheAgents() async throws {
        let rig = try await Rig.start()
        rig.vault.hang("POST", "/data/", carriedOut: false)
        guard case .failed = try await shortLived(rig).failover(provider: "vertex", apply: true).outcome else {
            Issue.record("it should have timed out")
            return
        }
        rig.vault.hang("POST", nil, carriedOut: false)
        let persons = #"{"duo_chat": ["claude_sonnet_4_5_20250929"]}"#
        rig.vault.put(Rig.path, ["value": .string(persons)])
        guard case .nothingToDo = try #require(await rig.replica().settlePending(healthy: ["vertex", "bedrock", "anthropic"])).outcome
        else {
            Issue.record("it should be put back")
            return
        }
        #expect(rig.secret.value == persons && rig.secret.version == 2)
        #expect(rig.vault.customMetadata(Rig.path).isEmpty && rig.gitlab.retries.isEmpty)
        await rig.stop()
    }

    @Test func aRetriedWriteMeetingItsOwnVersionIsNoConflict() async throws {
        let rig = try await Rig.start()
        rig.vault.hang("POST", "/data/", carriedOut: true, times: 1)
        let report = try await rig.replica(timeout: .seconds(1), retries: 2).failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed)
        #expect(rig.logs.all.contains { $0.contains("had landed although its answer was lost") })
        #expect(rig.secret.version == 2 && rig.gitlab.retries == [3])
        #expect(rig.ownership.providers == ["vertex"] && rig.ownership.writtenVersion == 2 && rig.ownership.pending == nil)
        await rig.stop()
    }

    @Test func aRetryCarriedOutButUnansweredIsFollowedNotRepeated() async throws {
        let rig = try await Rig.start()
        rig.gitlab.hang("POST", "/retry", carriedOut: true)
        #expect(try await shortLived(rig).failover(provider: "vertex", apply: true).outcome == .deployed)
        #expect(rig.gitlab.retries == [3], "followed, not retried again")
        #expect(
            rig.logs.all.contains { $0.contains("retry of job #3") && $0.contains("settled by reading: carried out: retried as job #6") })
        #expect(rig.ownership.pending == nil && rig.ownership.providers == ["vertex"])
        rig.gitlab.hang("POST", nil, carriedOut: true)
        await rig.stop()
    }

    /// A retry whose answer a proxy replaced by a 502 after GitLab carried it out: reading the
    /// jobs shows the retry, which is followed; it is never sent again (GitLab would answer 403
    /// "Job is not retryable") and nothing is rolled back while the deploy it started runs.
    @Test func aRetryWhoseAnswerWasLostIsFollowedNeverRolledBack() async throws {
        let rig = try await Rig.start()
        rig.gitlab.loseAnswer("POST", "/retry", status: 502)
        #expect(try await rig.replica().failover(provider: "vertex", apply: true).outcome == .deployed)
        #expect(rig.gitlab.retries == [3], "one retry")
        #expect(rig.secret.version == 2 && rig.override["duo_chat"] == ["claude_sonnet_4_6"], "the failover stands")
        #expect(rig.gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "expedited")
        #expect(!rig.logs.all.contains { $0.contains("put the secret back") })
        await rig.stop()
    }

    /// The retry is refused outright (a job GitLab will not retry) and no try of it exists: no deploy
    /// started, so the write is undone and the expedited variable removed.
    @Test func aRetryRefusedWithNoTryOfItRollsBack() async throws {
        let rig = try await Rig.start()
        rig.gitlab.fail("POST", "/retry", status: 403, times: 1)
        guard case .refused(let why) = try await rig.replica().failover(provider: "vertex", apply: true).outcome else {
            Issue.record("it should be refused")
            return
        }
        #expect(why.contains("the secret was put back"), "\(why)")
        #expect(rig.secret.value == Rig.original && rig.gitlab.retries.isEmpty && rig.gitlab.variables.isEmpty)
        await rig.stop()
    }

    @Test func anActionSettlesWhatWasLeftBeforeItActs() async throws {
        let rig = try await Rig.start()
        var dying = try rig.replica()
        dying.onStep = { step in if case .secretWritten = step { throw Died() } }
        _ = await dying.failover(provider: "vertex", apply: true)
        let next = try rig.replica()
        #expect(await next.failover(provider: "bedrock", apply: true).outcome == .deployed)
        #expect(rig.logs.all.contains { $0.contains("first settled an earlier action: deployed") })
        #expect(rig.ownership.providers == ["bedrock", "vertex"] && rig.ownership.pending == nil)
        #expect(rig.gitlab.retries.count == 2, "the owed redeploy, then this action's")
        await rig.stop()
    }

    @Test func aReplicaThatLostTheLeaseWritesNothingMore() async throws {
        let rig = try await Rig.start()
        var losing = try rig.replica()
        let asked = Mutex(0)
        losing.mayAct = {
            asked.withLock {
                $0 += 1
                return $0 <= 2
            }
        }  // the write-ahead record and the secret write, then lost
        let report = await losing.failover(provider: "vertex", apply: true)
        guard case .failed(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("lost the Lease"))
        #expect(rig.secret.version == 2 && rig.gitlab.retries.isEmpty)
        #expect(rig.ownership.pending?.write?.casVersion == 1, "its last record is the write-ahead one")
        #expect(try await rig.replica().settlePending(healthy: ["vertex", "bedrock", "anthropic"])?.outcome == .deployed)
        #expect(rig.gitlab.retries == [3] && rig.ownership.writtenVersion == 2 && rig.ownership.pending == nil)
        await rig.stop()
    }
}
