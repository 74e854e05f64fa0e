import Actions
import ControlSimulators
import GitLabClient
import Selection
import Synchronization
import Testing

/// Every write of a failover and of a restore, its answer lost once after GitLab or Vault carried
/// it out (a proxy's 502, as DESIGN.md's "Writes whose answer is lost" describes): the action
/// settles it by reading and ends as if nothing had been lost.
@Suite(.serialized) struct LostAnswerTests {
    /// (the simulator, the method, a fragment of the URI) of one kind of write.
    enum Write: String, CaseIterable, Sendable {
        case jobRetry, changeRequest, notes, expeditedVariable, vaultWrite, closeIssue, variableRemoval

        func lose(_ loop: ClosedLoop, times: Int = 1) {
            switch self {
            case .jobRetry: loop.gitlab.loseAnswer("POST", "/retry", times: times)
            case .changeRequest: loop.gitlab.loseAnswer("POST", "production/issues", times: times)
            case .notes: loop.gitlab.loseAnswer("POST", "/notes", times: .max)  // every note, once each
            case .expeditedVariable: loop.gitlab.loseAnswer("POST", "/variables", times: times)
            case .vaultWrite: loop.vault.loseAnswer("POST", "/data/", times: times)
            case .closeIssue: loop.gitlab.loseAnswer("PUT", "/issues/", times: times)
            case .variableRemoval: loop.gitlab.loseAnswer("DELETE", "/variables/", times: times)
            }
        }
    }

    /// What "as if nothing had been lost" means after a failover and its restore.
    func expectNothingLost(_ loop: ClosedLoop, failover: ActionReport, restore: ActionReport, during: String?) {
        #expect(failover.outcome == .deployed && failover.verified == true, "\(failover.outcome)")
        #expect(during == "expedited", "the expedited variable is set during the incident")
        #expect(restore.outcome == .deployed, "\(restore.outcome)")
        #expect(loop.gitlab.retries.count == 2, "one job retry per action: \(loop.gitlab.retries)")
        let issues = loop.changeRequests
        #expect(issues.count == 1, "one change request: \(issues.map(\.title))")
        let notes = issues.first?.notes ?? []
        #expect(Set(notes).count == notes.count, "no duplicate note: \(notes)")
        #expect(issues.first?.state == "closed")
        #expect(loop.secret == ClosedLoop.original, "the secret back byte for byte")
        #expect(loop.vault.current(ClosedLoop.path)?.version == 3, "one write per action")
        #expect(loop.vault.customMetadata(ClosedLoop.path).isEmpty, "nothing owned any more")
        #expect(loop.gitlab.variables.isEmpty, "the expedited variable removed after")
    }

    @Test(arguments: Write.allCases) func aWriteWhoseAnswerIsLostOnceIsDoneOnce(_ write: Write) async throws {
        let loop = try await ClosedLoop.start(restoreRedeploy: true)
        write.lose(loop)
        let failover = await loop.executor.failover(provider: "vertex", apply: true)
        let during = loop.gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"]
        write.lose(loop)
        let restore = await loop.executor.restore(provider: "vertex", apply: true)
        expectNothingLost(loop, failover: failover, restore: restore, during: during)
        await loop.stop()
    }

    @Test func everyAnswerLostAtOnceWithAVault503AndAGitLab429() async throws {
        let loop = try await ClosedLoop.start(restoreRedeploy: true)
        let journaled = Mutex<[String]>([])
        var executor = loop.executor
        executor.onStep = { step in journaled.withLock { $0.append("\(step.name): \(step.detail)") } }
        for write in Write.allCases { write.lose(loop) }
        loop.vault.failNext(1, status: 503)
        loop.gitlab.rateLimitNext(1, retryAfter: 0)
        let failover = await executor.failover(provider: "vertex", apply: true)
        let during = loop.gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"]
        for write in Write.allCases { write.lose(loop) }
        loop.vault.failNext(1, status: 503)
        loop.gitlab.rateLimitNext(1, retryAfter: 0)
        let restore = await executor.restore(provider: "vertex", apply: true)
        expectNothingLost(loop, failover: failover, restore: restore, during: during)
        let settled = journaled.withLock { $0 }.filter { $0.hasPrefix("unknown-outcome:") }
        for request in ["retry of job", "opening of a change request", "note on issue", "create of the CI variable", "check-and-set write"]
        {
            #expect(settled.contains { $0.contains(request) && $0.contains("settled by reading: carried out") }, "\(request): \(settled)")
        }
        await loop.stop()
    }
}
