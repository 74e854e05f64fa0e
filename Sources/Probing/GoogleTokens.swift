import Foundation

/// Google access tokens by source, each reused for its lifetime and then fetched again.
public actor GoogleTokens {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
    private var cache: [GoogleTokenSource: (token: String, expires: ContinuousClock.Instant)] = [:]

    public init() {}

    public func token(for source: GoogleTokenSource) async throws(Failure) -> String {
        let now = ContinuousClock.now
        if let cached = cache[source], cached.expires > now { return cached.token }
        let token = try await fetch(source.origin)
        guard !token.isEmpty, !token.contains(where: \.isNewline) else { throw Failure(description: "google token from \(source.origin.label) is empty or spans lines") }
        cache[source] = (token, now + source.lifetime)
        return token
    }

    private func fetch(_ origin: GoogleTokenSource.Origin) async throws(Failure) -> String {
        switch origin {
        case .file(let path):
            do { return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
                throw Failure(description: "cannot read google token file \(path): \(error.localizedDescription)")
            }
        case .command(let command):
            return try await Self.run(command)
        }
    }

    /// Runs `command` with a 30 s limit; its trimmed standard output is the token.
    private static func run(_ command: String) async throws(Failure) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw Failure(description: "cannot start google token command: \(error.localizedDescription)") }
        let watchdog = Task { [process] in
            try await Task.sleep(for: .seconds(30))
            process.terminate()
        }
        let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        watchdog.cancel()
        guard process.terminationStatus == 0 else { throw Failure(description: "google token command exited with status \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension GoogleTokenSource.Origin {
    var label: String {
        switch self {
        case .file(let path): "file \(path)"
        case .command: "command"
        }
    }
}
