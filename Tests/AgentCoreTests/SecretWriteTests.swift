import Lifecycle
import Testing

/// A check-and-set write whose answer may be lost, answer by answer (pure).
struct SecretWriteTests {
    func after(_ answers: [SecretWrite.Answer]) -> [SecretWrite.Request] {
        var write = SecretWrite(over: 7)
        #expect(write.request == .recordAhead(over: 7), "the write-ahead record comes first")
        return [write.answered(.recorded)] + answers.map { write.answered($0) }
    }

    @Test func eachAnswerLeadsWhereItMust() {
        let cases: [([SecretWrite.Answer], [SecretWrite.Request], String)] = [
            ([.written(version: 8)], [.send(over: 7), .landed(version: 8, lost: nil)], "answered: landed as the version Vault gave"),
            (
                [.conflict, .readBack(ours: false)], [.send(over: 7), .readBack(over: 7), .conflict],
                "a conflict is read back: someone else wrote, plan again"
            ),
            (
                [.conflict, .readBack(ours: true)],
                [.send(over: 7), .readBack(over: 7), .landed(version: 8, lost: "resent, met its own version")],
                "the client's second try met its own first one: landed, not a conflict"
            ),
            (
                [.lost("502"), .readBack(ours: true)], [.send(over: 7), .readBack(over: 7), .landed(version: 8, lost: "502")],
                "an unanswered write that landed is settled by reading"
            ),
            (
                [.lost("timeout"), .readBack(ours: false)], [.send(over: 7), .readBack(over: 7), .unknown("timeout")],
                "unanswered and not found: it may land yet, never written again blindly"
            ),
        ]
        for (answers, requests, why) in cases {
            #expect(after(answers) == requests, "\(why)")
        }
    }

    @Test func anAnswerOutOfTurnIsNeverTakenAsLanded() {
        var write = SecretWrite(over: 7)
        #expect(write.answered(.written(version: 8)) != .landed(version: 8, lost: nil), "never sent before its write-ahead record")
        let requests = after([.readBack(ours: true)])
        guard case .unknown(let why) = requests.last else {
            Issue.record("\(requests)")
            return
        }
        #expect(why.contains("answered readBack"))
        #expect(after([.written(version: 8), .written(version: 9)]).last != .landed(version: 9, lost: nil))
    }
}
