import AWSEventStream
import Foundation
import TestSupport
import Testing

/// AWS's event-stream framing: our encoder read back by botocore's parser (the oracle), and our
/// decoder on what it encodes, cut short, and corrupted.
@Suite struct EventStreamTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    static let messages = [
        EventStreamMessage(
            headers: [":message-type": "event", ":event-type": "messageStart", ":content-type": "application/json"],
            payload: Array(#"{"role":"assistant"}"#.utf8)),
        EventStreamMessage(
            headers: [":message-type": "event", ":event-type": "contentBlockDelta", ":content-type": "application/json"],
            payload: Array(#"{"contentBlockIndex":0,"delta":{"text":"p"}}"#.utf8)),
        EventStreamMessage(
            headers: [":message-type": "exception", ":exception-type": "throttlingException", ":content-type": "application/json"],
            payload: Array(#"{"message":"Too many requests"}"#.utf8)),
    ]

    /// botocore's parser, on its own thread (it waits for a process).
    static func botocore(_ bytes: [UInt8]) async throws -> (status: Int32, out: String, err: String) {
        try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", root + "/Tests/Oracles/eventstream_oracle.py"]
            let input = Pipe()
            let output = Pipe()
            let errors = Pipe()
            (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
            try process.run()
            input.fileHandleForWriting.write(Data(bytes))
            try input.fileHandleForWriting.close()
            let out = output.fileHandleForReading.readDataToEndOfFile()
            let err = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }
    }

    @Test func botocoreReadsWhatWeEncode() async throws {
        let bytes = Self.messages.flatMap { $0.encoded() }
        let (status, out, err) = try await Self.botocore(bytes)
        #expect(status == 0, "\(err)")
        let decoded = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(decoded.count == 3)
        for (message, theirs) in zip(Self.messages, decoded) {
            #expect(theirs["headers"] as? [String: String] == message.headers)
            #expect(theirs["payload"] as? String == String(decoding: message.payload, as: UTF8.self))
        }
    }

    @Test func botocoreRefusesACorruptedChecksumAsWeDo() async throws {
        var bytes = Self.messages[1].encoded()
        bytes[bytes.count - 6] ^= 0x01  // a payload byte: the message checksum no longer matches
        let (status, _, err) = try await Self.botocore(bytes)
        #expect(status == 1 && err.contains("Checksum"), "\(err)")
        #expect(throws: EventStreamMessage.DecodingError.messageChecksum(offset: 0)) { try EventStreamMessage.decode(bytes) }
        var prelude = Self.messages[0].encoded()
        prelude[9] ^= 0x01
        #expect(throws: EventStreamMessage.DecodingError.preludeChecksum(offset: 0)) { try EventStreamMessage.decode(prelude) }
    }

    @Test func decodingGivesBackTheMessagesWithTheirOffsets() throws {
        let encoded = Self.messages.map { $0.encoded() }
        let (messages, leftover) = try EventStreamMessage.decode(encoded.flatMap { $0 })
        #expect(leftover == 0)
        #expect(messages.map(\.headers) == Self.messages.map(\.headers))
        #expect(messages.map(\.payload) == Self.messages.map(\.payload))
        #expect(messages.map(\.offset) == [0, encoded[0].count, encoded[0].count + encoded[1].count])
        #expect(messages[2].messageType == "exception" && messages[2].type == "throttlingException")
    }

    @Test func aStreamCutInsideAMessageLeavesItsBytesOver() throws {
        let bytes = Self.messages[0].encoded() + Self.messages[1].encoded().prefix(20)
        let (messages, leftover) = try EventStreamMessage.decode(bytes)
        #expect(messages.count == 1 && leftover == 20)
    }
}
