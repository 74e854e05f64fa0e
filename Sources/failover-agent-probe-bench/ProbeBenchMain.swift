import ArgumentParser

/// The probe engine's benchmark, apart from the decision benchmarks: it links only the HTTP
/// client and server, so its peak RSS is the client's own.
@main
struct ProbeBenchMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover-agent-probe-bench",
        abstract: "Probe throughput and memory on loopback. Every run is bounded in count and time.",
        subcommands: [ServeBench.self, ProbeBench.self])
}
