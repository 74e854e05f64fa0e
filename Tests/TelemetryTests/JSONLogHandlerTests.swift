import Foundation
import Logging
import Synchronization
import Telemetry
import Testing

@Suite struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func oneObjectPerLineWithTheLoggersMetadata() throws {
        let lines = Lines()
        var logger = Logger(label: "failover-agent") { label in
            JSONLogHandler(
                label: label, metadataProvider: .init { ["replica": "pod-a"] }, unixTime: { 1_796_688_000.25 }, write: lines.append)
        }
        logger[metadataKey: "target"] = "aigw-production"
        logger.info(
            "vertex: suspect → failing\nsecond line \"quoted\"",
            metadata: ["provider": "vertex", "message": "clash", "attempt": "\(2)", "models": ["a", "b"]])
        logger.debug("not at info")
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "failover-agent")
        #expect(object["message"] as? String == "vertex: suspect → failing\nsecond line \"quoted\"")
        #expect(object["provider"] as? String == "vertex")
        #expect(object["target"] as? String == "aigw-production")
        #expect(object["replica"] as? String == "pod-a")
        #expect(object["metadata.message"] as? String == "clash")
        #expect(object["models"] as? [String] == ["a", "b"])
        #expect(object["time"] as? String == "2026-12-08T00:00:00.250Z", "the time is the process clock's, in UTC with milliseconds")
    }
}
