import Foundation
import Journal
import Testing
import Timekeeping

@Suite struct JournalTests {
    func file() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path }

    @Test func intentsSurviveAReopenUntilFinished() async throws {
        let path = file()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var intent: Int64 = 0
        do {
            let journal = try Journal(path: path, clock: WallClock())
            intent = try await journal.beginIntent(
                "failover", target: "aigw-production", provider: "vertex", detail: #"{"cas":7}"#, at: 100)
            try await journal.step(intent, "vault-written", detail: #"{"version":8}"#, at: 101)
            try await journal.record("alert", target: "aigw-production", detail: "paged", at: 102)
        }
        // A new process after kill -9: the intent and its step are there.
        let reopened = try Journal(path: path, clock: WallClock())
        let open = try await reopened.openIntents()
        #expect(open.count == 1)
        #expect(open.first?.action == "failover")
        #expect(open.first?.provider == "vertex")
        #expect(open.first?.step("vault-written") == #"{"version":8}"#)
        #expect(open.first?.step("job-retried") == nil)
        try await reopened.step(intent, "job-retried", detail: "job 42", at: 103)
        try await reopened.finish(intent, outcome: "deployed success", at: 104)
        #expect(try await reopened.openIntents().isEmpty)
        let history = try await reopened.history()
        #expect(history.map(\.kind) == ["intent:failover", "step:vault-written", "alert", "step:job-retried", "result"])
        #expect(history.last?.intent == intent)
        #expect(try await reopened.history(limit: 2).map(\.kind) == ["step:job-retried", "result"])
    }

    @Test func aProposalMovesOnceEvenUnderConcurrentApprovals() async throws {
        let journal = try Journal(path: ":memory:", clock: WallClock())
        try await journal.save(
            .init(
                id: "ab12cd", created: 0, expires: 900, action: "failover", target: "t", provider: "vertex", plan: "{}", sha: "f00d",
                secretVersion: 3))
        #expect(try await journal.openProposals().map(\.id) == ["ab12cd"])
        let wins = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { (try? await journal.transition("ab12cd", from: .open, to: .approved)) ?? false } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await journal.proposal("ab12cd")?.status == .approved)
        #expect(try await journal.transition("ab12cd", from: .open, to: .rejected) == false)
        #expect(try await journal.openProposals().isEmpty)
        #expect(try await journal.proposal("nope") == nil)
    }
}
