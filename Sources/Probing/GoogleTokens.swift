import Foundation
import HTTP
import Secrets
import Subprocess
import Timekeeping

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Google access tokens by source, each reused for its lifetime (counted from when it was fetched)
/// and then fetched again. A command runs through swift-subprocess, in a process group of its own
/// that is killed whole at `commandLimit`: nothing waits on a thread of the cooperative pool.
public actor GoogleTokens {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
    private var cache: [GoogleTokenSource: (token: String, expires: Duration)] = [:]
    private let now: @Sendable () -> Duration
    private let commandLimit: Duration

    /// `now` is the time since any fixed origin (injected in tests); `commandLimit` bounds a command.
    public init(commandLimit: Duration = .seconds(30), now: @escaping @Sendable () -> Duration = GoogleTokens.monotonicNow) {
        self.now = now
        self.commandLimit = commandLimit
    }

    public static let monotonicNow: @Sendable () -> Duration = {
        let clock = WallClock()
        return { clock.elapsed }
    }()

    /// The token of `source`; `client` fetches from a metadata server.
    public func token(for source: GoogleTokenSource, client: HTTPClient? = nil) async throws(Failure) -> String {
        if let cached = cache[source], cached.expires > now() { return cached.token }
        let (token, expiresIn) = try await fetch(source.origin, client: client)
        guard !token.isEmpty, !token.contains(where: \.isNewline) else {
            throw Failure(description: "google token from \(source.origin.label) is empty or spans lines")
        }
        Secrets.register(token)
        let lifetime = expiresIn.map { min(source.lifetime, $0 - .seconds(60)) } ?? source.lifetime
        cache[source] = (token, now() + max(.zero, lifetime))
        return token
    }

    private func fetch(_ origin: GoogleTokenSource.Origin, client: HTTPClient?) async throws(Failure) -> (String, Duration?) {
        switch origin {
        case .file(let path):
            do { return (try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), nil) } catch {
                throw Failure(description: "cannot read google token file \(path): \(error.localizedDescription)")
            }
        case .command(let command):
            return (try await Self.run(command, limit: commandLimit), nil)
        case .metadata(let address):
            guard let client else { throw Failure(description: "no HTTP client to reach the metadata server") }
            return try await Self.fromMetadata(address, client: client)
        }
    }

    /// `GET /computeMetadata/v1/instance/service-accounts/default/token` with `Metadata-Flavor: Google`.
    private static func fromMetadata(_ address: String, client: HTTPClient) async throws(Failure) -> (String, Duration?) {
        let url =
            (address.hasSuffix("/") ? String(address.dropLast()) : address)
            + "/computeMetadata/v1/instance/service-accounts/default/token"
        let exchange = await client.execute(
            HTTPRequest(method: "GET", url: url, headers: [HTTPHeader("Metadata-Flavor", "Google")], timeout: .seconds(5)))
        let response: HTTPResponse
        switch exchange.result {
        case .success(let answer): response = answer
        case .failure(let failure): throw Failure(description: "metadata server \(address): \(failure.message)")
        }
        guard response.status == 200,
            let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
            let token = json["access_token"] as? String
        else { throw Failure(description: "metadata server \(address): HTTP \(response.status), no access_token") }
        return (token, (json["expires_in"] as? Int).map { .seconds($0) })
    }

    /// Runs `command` with `/bin/sh -c` in a new process group; past `limit` the whole group is
    /// killed. Its trimmed standard output (at most 64 KiB) is the token.
    private static func run(_ command: String, limit: Duration) async throws(Failure) -> String {
        var options = PlatformOptions()
        options.processGroupID = 0
        do {
            let outcome = try await Subprocess.run(
                .path(FilePath("/bin/sh")), arguments: ["-c", command], platformOptions: options, input: .none,
                output: .sequence, error: .discarded
            ) { execution -> String? in
                let output = execution.standardOutput
                return try await withThrowingTaskGroup(of: String?.self) { group in
                    group.addTask {
                        var bytes: [UInt8] = []
                        for try await chunk in output {
                            chunk.withUnsafeBytes { bytes.append(contentsOf: $0) }
                            if bytes.count > 65_536 { break }
                        }
                        return String(decoding: bytes.prefix(65_536), as: UTF8.self)
                    }
                    group.addTask {
                        try await WallClock().sleep(for: limit)  // a real process: bounded in real time
                        return nil
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    if first == nil { try? execution.send(signal: .kill, toProcessGroup: true) }
                    return first
                }
            }
            guard let text = outcome.closureResult else {
                throw Failure(description: "google token command did not finish within \(limit) and was killed")
            }
            guard case .exited(0) = outcome.terminationStatus else {
                throw Failure(description: "google token command \(Self.describe(outcome.terminationStatus))")
            }
            return text.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "cannot run google token command: \(error)")
        }
    }

    private static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by signal \(signal)"
        }
    }
}

extension GoogleTokenSource.Origin {
    var label: String {
        switch self {
        case .file(let path): "file \(path)"
        case .command: "command"
        case .metadata(let address): "metadata server \(address)"
        }
    }
}
