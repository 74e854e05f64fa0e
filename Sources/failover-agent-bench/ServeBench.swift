import ArgumentParser
import Glibc
import HTTPServer

/// A fast loopback target for the probe benchmark, in its own process so its memory is not counted.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve 200 {} on 127.0.0.1 until the time limit.")

    @Option(help: "Port on 127.0.0.1 (0 picks a free one; the port is printed).") var port = 0
    @Option(help: "Event-loop threads.") var threads = 1
    @Option(help: "Seconds to serve before exiting by itself.") var seconds = 300

    func run() async throws {
        let body = Array(#"{"ok":true}"#.utf8)
        let server = try await HTTPServer.start(port: port, threads: threads) { _ in
            .respond(status: 200, headers: [("content-type", "application/json")], body: body)
        }
        writeLine("listening \(server.port)")
        try? await Task.sleep(for: .seconds(seconds))
        await server.stop()
    }
}
