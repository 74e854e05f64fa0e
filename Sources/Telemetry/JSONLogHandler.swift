import Foundation
import Logging
import Synchronization

/// One JSON object per line for log pipelines (`agent.log_format: json`): `time` (ISO 8601, UTC,
/// milliseconds), `level`, `label`, `message`, `source`, and every metadata key (handler, provider
/// and call site, the call site winning) at the top level; a metadata key that clashes with one of
/// those fields is written as `metadata.<key>`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void
    private let unixTime: @Sendable () -> Double

    /// `unixTime`: the process's clock, calendar seconds (the `time` field). `write` receives each
    /// line, newline included; the default writes to standard output.
    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = nil, unixTime: @escaping @Sendable () -> Double,
        write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardOutput
    ) {
        self.label = label
        self.unixTime = unixTime
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata(of: event)
        var object: [String: Any] = [
            "time": Self.timestamp(Date(timeIntervalSince1970: unixTime())), "level": event.level.rawValue, "label": label,
            "message": event.message.description, "source": event.source,
        ]
        for (key, value) in merged {
            object[object[key] == nil ? key : "metadata.\(key)"] = Self.json(value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    private static let lock = Mutex(())

    /// Writes whole lines to standard output, one writer at a time.
    public static let standardOutput: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardOutput.write(Data(line.utf8)) }
    }
}
