import Foundation
import HTTPServer
import Synchronization
import Testing

/// Row 15 of the hardening review, as a user meets it at the command line.
@Suite(.serialized) struct CLIHardeningTests {
    let cli = ProbeCommandTests()
    static let fixtures = ControlCommandTests.fixtures

    func directory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-hard-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory + "/probes", withIntermediateDirectories: true)
        return directory
    }

    @Test func aMissingCABundleIsRefused() throws {
        let (status, _, err) = try cli.run(["probe", "--probes", try directory() + "/probes", "--ca-bundle", "/nonexistent/ca.pem"])
        #expect(status == 2)
        #expect(err.contains("--ca-bundle /nonexistent/ca.pem: no readable file there"))
    }

    @Test func terminalEscapesInNamesArePrintedInert() async throws {
        let server = try await HTTPServer.start { _ in .json(200, "{}") }
        defer { Task { await server.stop() } }
        let directory = try directory()
        try "provider: vertex\nname: \"red\\e[31m\\e]0;title\\a\"\nurl: \(server.baseURL)/\n".write(
            toFile: directory + "/probes/p.yml", atomically: true, encoding: .utf8)
        let (status, out, _) = try cli.run(["probe", "--probes", directory + "/probes"])
        #expect(status == 0)
        #expect(!out.contains("\u{1B}") && !out.contains("\u{07}"))
        #expect(out.contains("red\\u{1B}[31m"))
    }

    @Test func aProposalIdIsOnePathSegment() async throws {
        let seen = Mutex<[String]>([])
        let server = try await HTTPServer.start { request in
            seen.withLock { $0.append(request.uri) }
            return .json(409, #"{"ok":false,"message":"no proposal"}"#)
        }
        defer { Task { await server.stop() } }
        let (status, out, _) = try cli.run(
            ["approve", "../pause x", "--agent", server.baseURL], environment: ["FAILOVER_AGENT_TOKEN": "t0ken"])
        #expect(status == 1)
        #expect(out.contains("no proposal"))
        #expect(seen.withLock { $0 } == ["/proposals/..%2Fpause%20x/approve"])
    }

    @Test func aBusyListenPortNamesTheField() async throws {
        let busy = try await HTTPServer.start { _ in .json(200, "{}") }
        defer { Task { await busy.stop() } }
        let directory = try directory()
        try "provider: vertex\nurl: http://127.0.0.1:9/\n".write(toFile: directory + "/probes/v.yml", atomically: true, encoding: .utf8)
        try """
        catalog:
          models: \(Self.fixtures)/models.yml
          unit_primitives: \(Self.fixtures)/unit_primitives.yml
        agent:
          probes: \(directory)/probes
          journal: \(directory)/journal.sqlite
          listen: 127.0.0.1:\(busy.port)
          api_token_env: API_TOKEN
        """.write(toFile: directory + "/agent.yml", atomically: true, encoding: .utf8)
        let (status, _, err) = try cli.run(["run", "--config", directory + "/agent.yml"], environment: ["API_TOKEN": "tok3n-value"])
        #expect(status == 2)
        #expect(err.contains("agent.listen: cannot listen on 127.0.0.1:\(busy.port)"), "\(err)")
    }
}
