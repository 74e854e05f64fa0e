import ArgumentParser
import Foundation
import Journal

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Print the agent's audit trail: proposals, approvals, intents, their steps and results.")

    @Option(help: "The journal file (SQLite).") var journal: String
    @Option(help: "How many of the newest entries.") var limit = 100

    func run() async throws {
        guard FileManager.default.fileExists(atPath: journal) else {
            printError("error: \(journal): no journal there")
            throw ExitCode(2)
        }
        let formatter = ISO8601DateFormatter()
        for entry in try await Journal(path: journal, clock: processClock).history(limit: limit) {
            let scope = [entry.target, entry.provider].compactMap { $0 }.joined(separator: "/")
            let intent = entry.intent.map { " (intent #\($0))" } ?? ""
            print(
                "#\(entry.id) \(formatter.string(from: Date(timeIntervalSince1970: entry.at))) "
                    + "\(entry.kind)\(scope.isEmpty ? "" : " " + scope)\(intent) \(entry.detail)"
            )
        }
    }
}
