import AgentCore
import Logging

extension LogLine.Level {
    /// The swift-log level of a core log line.
    var logging: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }
}
