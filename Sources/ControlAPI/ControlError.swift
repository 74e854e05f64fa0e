import Secrets

/// Why a control-plane step did not happen. Every case says what to do about it.
public enum ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The credentials lack a permission.
    case forbidden(String)
    /// Someone else wrote the secret since it was read.
    case casMismatch
    /// Unreachable or failing after retries.
    case unavailable(String)
    /// A request that must not be sent twice went out and its answer was lost (a timeout, a 5xx,
    /// a connection dropped after sending): it may or may not have been carried out. The caller
    /// settles it by reading before anything else happens.
    case unknownOutcome(String)
    /// An answer that does not have the expected shape.
    case malformed(String)
    /// A precondition failed; nothing was touched.
    case refused(String)
    /// A credential could not be read.
    case credential(String)
    /// The agent is shutting down: it stopped waiting (the step itself happened; what is owed is recorded).
    case interrupted(String)

    public var description: String {
        switch self {
        case .forbidden(let what): "forbidden: \(what)"
        case .casMismatch: "check-and-set conflict: the secret changed since it was read"
        case .unavailable(let what): "unavailable: \(what)"
        case .unknownOutcome(let what): "outcome unknown: \(what)"
        case .malformed(let what): "unexpected answer: \(what)"
        case .refused(let why): "refused: \(why)"
        case .credential(let what): "credential: \(what)"
        case .interrupted(let what): "interrupted: \(what)"
        }
    }
}

/// A token from an environment variable or a file (trimmed).
public enum Credential: Sendable, Equatable {
    case environment(String)
    case file(String)

    public func resolve(_ environment: [String: String]) throws(ControlError) -> String {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else { throw .credential("environment variable \(name) is not set") }
            Secrets.register(value)
            return value
        case .file(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .credential("cannot read token file \(path)") }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw .credential("token file \(path) is empty") }
            Secrets.register(token)
            return token
        }
    }
}
