import Logging
import Secrets

/// A log handler that passes every message and metadata value through ``Secrets/scrub(_:)``
/// before the wrapped handler writes it: no log line carries a credential the process knows.
struct ScrubbingLogHandler: LogHandler {
    var wrapped: any LogHandler

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }
    var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }
    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(Secrets.scrub(event.message.description))"
        event.metadata = event.metadata?.mapValues { .string(Secrets.scrub($0.description)) }
        wrapped.log(event: event)
    }
}
