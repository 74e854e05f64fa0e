import ArgumentParser
import BenchSupport
import Glibc
import HTTPServer

/// A fast loopback target for the probe benchmark, in its own process so its memory is not counted.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve 200 {} (or an event stream) on 127.0.0.1 until the time limit.")

    @Option(help: "Port on 127.0.0.1 (0 picks a free one; the port is printed).") var port = 0
    @Option(help: "Event-loop threads.") var threads = 1
    @Option(help: "Seconds to serve before exiting by itself.") var seconds = 300
    @Flag(help: "Answer as a provider's event stream, in three chunks (message_start, a token, message_stop).") var stream = false

    func run() async throws {
        let body = Array(#"{"ok":true}"#.utf8)
        let events = [
            "event: message_start\ndata: {\"type\":\"message_start\"}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"p\"}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ].map { StreamChunk($0) }
        let stream = stream
        let server = try await HTTPServer.start(port: port, threads: threads) { _ in
            stream
                ? .stream(status: 200, headers: [("content-type", "text/event-stream")], chunks: events)
                : .respond(status: 200, headers: [("content-type", "application/json")], body: body)
        }
        writeLine("listening \(server.port)")
        try? await Task.sleep(for: .seconds(seconds))
        await server.stop()
    }
}
