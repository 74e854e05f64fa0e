import Logging

/// Hands each log line to a closure, with its level and metadata: the demo prints it on its own
/// clock, the CLI under the target's name, tests keep it.
public struct ForwardingLogHandler: LogHandler {
    public var logLevel: Logger.Level = .debug
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let forward: @Sendable (Logger.Level, String, Logger.Metadata) -> Void

    public init(_ forward: @escaping @Sendable (Logger.Level, String, Logger.Metadata) -> Void) { self.forward = forward }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata(of: event)
        forward(event.level, event.message.description, merged)
    }
}

extension LogHandler {
    /// The handler's metadata, then the provider's, then the call site's, the later winning.
    func metadata(of event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        merged.merge(metadataProvider?.get() ?? [:]) { $1 }
        merged.merge(event.metadata ?? [:]) { $1 }
        return merged
    }
}

extension Logger {
    /// A logger whose lines (message only) go to `line`.
    public static func forwarding(_ label: String = "failover-agent", _ line: @escaping @Sendable (String) -> Void) -> Logger {
        Logger(label: label) { _ in ForwardingLogHandler { _, message, _ in line(message) } }
    }

    /// A logger that writes nothing.
    public static var silent: Logger { Logger(label: "failover-agent") { _ in SwiftLogNoOpLogHandler() } }
}
