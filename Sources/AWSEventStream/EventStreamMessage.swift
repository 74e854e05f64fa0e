/// AWS's binary event-stream framing (`application/vnd.amazon.eventstream`), as Bedrock's
/// `ConverseStream` sends it: each message is a prelude (total length, headers length, the
/// prelude's CRC32), typed headers, a payload and the message's CRC32, big-endian.
public struct EventStreamMessage: Sendable, Equatable {
    /// String-valued headers (`:message-type`, `:event-type`, `:exception-type`, `:content-type`, …).
    public var headers: [String: String]
    public var payload: [UInt8]
    /// Byte offset of the message in the stream.
    public var offset: Int

    public init(headers: [String: String], payload: [UInt8], offset: Int = 0) {
        self.headers = headers
        self.payload = payload
        self.offset = offset
    }

    /// `event`, `exception` or `error`.
    public var messageType: String? { headers[":message-type"] }
    /// The event's or exception's name (`contentBlockDelta`, `throttlingException`, …).
    public var type: String? { headers[":event-type"] ?? headers[":exception-type"] ?? headers[":error-code"] }

    /// The message on the wire; headers in name order, all as strings (type 7).
    public func encoded() -> [UInt8] {
        var headerBytes: [UInt8] = []
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            headerBytes.append(UInt8(name.utf8.count))
            headerBytes += name.utf8
            headerBytes.append(7)
            headerBytes += Self.bigEndian(UInt16(value.utf8.count))
            headerBytes += value.utf8
        }
        let total = UInt32(12 + headerBytes.count + payload.count + 4)
        var bytes = Self.bigEndian(total) + Self.bigEndian(UInt32(headerBytes.count))
        bytes += Self.bigEndian(CRC32.checksum(bytes))
        bytes += headerBytes + payload
        return bytes + Self.bigEndian(CRC32.checksum(bytes))
    }

    /// Why a stream cannot be read.
    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case preludeChecksum(offset: Int)
        case messageChecksum(offset: Int)
        case malformed(offset: Int, String)

        public var description: String {
            switch self {
            case .preludeChecksum(let offset): "prelude checksum mismatch at byte \(offset)"
            case .messageChecksum(let offset): "message checksum mismatch at byte \(offset)"
            case .malformed(let offset, let what): "malformed message at byte \(offset): \(what)"
            }
        }
    }

    /// The complete messages of `bytes`, and how many bytes a last, incomplete one left over.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> (messages: [EventStreamMessage], leftover: Int) {
        var messages: [EventStreamMessage] = []
        var offset = 0
        while bytes.count - offset >= 12 {
            let total = Int(readUInt32(bytes, offset))
            let headersLength = Int(readUInt32(bytes, offset + 4))
            guard CRC32.checksum(bytes[offset..<offset + 8]) == readUInt32(bytes, offset + 8) else {
                throw .preludeChecksum(offset: offset)
            }
            guard total >= 16 + headersLength, total <= 16 << 20 else {
                throw .malformed(offset: offset, "lengths \(total)/\(headersLength)")
            }
            guard bytes.count - offset >= total else { break }
            guard CRC32.checksum(bytes[offset..<offset + total - 4]) == readUInt32(bytes, offset + total - 4) else {
                throw .messageChecksum(offset: offset)
            }
            let headers = try readHeaders(bytes[offset + 12..<offset + 12 + headersLength], at: offset)
            messages.append(
                EventStreamMessage(
                    headers: headers, payload: Array(bytes[offset + 12 + headersLength..<offset + total - 4]), offset: offset))
            offset += total
        }
        return (messages, bytes.count - offset)
    }

    private static func readHeaders(_ bytes: ArraySlice<UInt8>, at message: Int) throws(DecodingError) -> [String: String] {
        var headers: [String: String] = [:]
        var index = bytes.startIndex
        func need(_ count: Int) throws(DecodingError) {
            guard bytes.endIndex - index >= count else { throw .malformed(offset: message, "a header runs past its block") }
        }
        while index < bytes.endIndex {
            try need(1)
            let nameLength = Int(bytes[index])
            try need(1 + nameLength + 1)
            let name = String(decoding: bytes[index + 1..<index + 1 + nameLength], as: UTF8.self)
            let type = bytes[index + 1 + nameLength]
            index += 2 + nameLength
            // Value sizes by type: bool true/false, byte, short, int, long, bytes/string (2-byte length), timestamp, uuid.
            let fixed: [UInt8: Int] = [0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16]
            if let size = fixed[type] {
                try need(size)
                index += size
            } else if type == 6 || type == 7 {
                try need(2)
                let length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
                try need(2 + length)
                if type == 7 { headers[name] = String(decoding: bytes[index + 2..<index + 2 + length], as: UTF8.self) }
                index += 2 + length
            } else {
                throw .malformed(offset: message, "header \(name) has unknown value type \(type)")
            }
        }
        return headers
    }

    private static func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}

/// CRC-32 (IEEE 802.3, as zlib computes it), which the framing uses for both checksums.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
