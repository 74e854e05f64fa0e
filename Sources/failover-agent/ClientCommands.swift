import ArgumentParser
import ControlAPI
import Foundation
import HTTP

/// How the client commands reach a running agent.
struct AgentConnection: ParsableArguments {
    @Option(help: "The running agent's API.") var agent = "http://127.0.0.1:9464"
    @Option(help: "File holding the API token (default: $FAILOVER_AGENT_TOKEN).") var tokenFile: String?

    /// Sends a request; prints the agent's message; exits 1 when it refused.
    func send(_ method: String, _ path: String, authorized: Bool = true) async throws -> JSONValue {
        var headers: [HTTPHeader] = []
        if authorized {
            let credential: Credential = tokenFile.map { .file($0) } ?? .environment("FAILOVER_AGENT_TOKEN")
            do {
                headers.append(HTTPHeader("Authorization", "Bearer \(try credential.resolve(ProcessInfo.processInfo.environment))"))
            } catch {
                printError("error: \(error)")
                throw ExitCode(2)
            }
        }
        let client = HTTPClient()
        defer { client.shutdown() }
        let exchange = await client.execute(
            HTTPRequest(method: method, url: agent + path, headers: headers, body: method == "POST" ? [] : nil, timeout: .seconds(60)))
        switch exchange.result {
        case .failure(let failure):
            printError("error: cannot reach the agent at \(agent): \(failure.message)")
            throw ExitCode(1)
        case .success(let response):
            let json = JSONValue.parse(response.body) ?? .null
            if let message = json["message"]?.string { print(message) }
            if !(200..<300).contains(response.status) { throw ExitCode(1) }
            return json
        }
    }
}

/// `id` as one URL path segment: anything but letters, digits and `-._~` percent-encoded.
func pathSegment(_ id: String) -> String {
    id.addingPercentEncoding(
        withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? id
}

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a proposal the agent paged: it re-validates the plan, then acts.")
    @Argument(help: "The proposal id from the page.") var id: String
    @OptionGroup var connection: AgentConnection
    func run() async throws { _ = try await connection.send("POST", "/proposals/\(pathSegment(id))/approve") }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a proposal: nothing happens.")
    @Argument(help: "The proposal id from the page.") var id: String
    @OptionGroup var connection: AgentConnection
    func run() async throws { _ = try await connection.send("POST", "/proposals/\(pathSegment(id))/reject") }
}

struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Kill switch: the agent keeps probing and paging, and acts on nothing.")
    @OptionGroup var connection: AgentConnection
    func run() async throws { _ = try await connection.send("POST", "/pause") }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Undo pause: the agent acts again.")
    @OptionGroup var connection: AgentConnection
    func run() async throws { _ = try await connection.send("POST", "/resume") }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Each provider's health, open proposals, failovers, pause.")
    @OptionGroup var connection: AgentConnection
    @Flag(help: "The raw JSON of GET /status.") var json = false

    func run() async throws {
        let status = try await connection.send("GET", "/status", authorized: false)
        if json {
            print(String(decoding: status.bytes, as: UTF8.self))
            return
        }
        print(
            "leader: \(status["leader"] == .bool(true) ? "yes" : "no")   paused: \(status["paused"] == .bool(true) ? "yes" : "no")   "
                + "blind: \(status["blind"] == .bool(true) ? "yes" : "no")"
        )
        for (name, provider) in (status["providers"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            print(
                "  \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(provider["state"]?.string ?? "?")  error rate "
                    + "\(provider["error_rate"].flatMap { if case .number(let n) = $0 { String(n) } else { nil } } ?? "?")  last "
                    + "\(provider["last_class"]?.string ?? "-")"
            )
        }
        for (target, checks) in (status["readiness"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            for check in checks.array ?? [] {
                print(
                    "  \(target) \(check["check"]?.string ?? "?"): \(check["ready"] == .bool(true) ? "ready" : "NOT READY") "
                        + "(\(check["reason"]?.string ?? ""))")
            }
        }
        for proposal in status["open_proposals"]?.array ?? [] {
            print(
                "  proposal \(proposal["id"]?.string ?? "?"): \(proposal["action"]?.string ?? "?") of "
                    + "\(proposal["provider"]?.string ?? "?") on \(proposal["target"]?.string ?? "?")"
            )
        }
    }
}
