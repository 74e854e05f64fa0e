import ArgumentParser
import BenchSupport
import Glibc
import HTTP

/// Probes/s and peak memory of the libcurl client at a given concurrency.
struct ProbeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Send -n GETs to --url, -c at a time; print probes/s and peak RSS.")

    @Option(help: "Target URL; must be on 127.0.0.1 or localhost.") var url: String
    @Option(name: .short, help: "Probes in all (at most 1,000,000).") var n = 20_000
    @Option(name: .short, help: "Probes in flight at once.") var c = 64

    func validate() throws {
        guard url.hasPrefix("http://127.0.0.1:") || url.hasPrefix("http://localhost:") else {
            throw ValidationError("--url must be a loopback http:// URL")
        }
        guard (1...1_000_000).contains(n), (1...1024).contains(c) else { throw ValidationError("-n must be 1…1,000,000 and -c 1…1024") }
    }

    func run() async throws {
        let client = HTTPClient(configuration: .init(maxCachedConnections: max(256, c * 2)))
        let request = HTTPRequest(url: url, timeout: .seconds(10))
        let clock = ContinuousClock()
        let start = clock.now
        let counts = await withTaskGroup(of: (ok: Int, failed: Int).self) { group in
            for worker in 0..<c {
                let share = n / c + (worker < n % c ? 1 : 0)
                group.addTask {
                    var ok = 0
                    var failed = 0
                    for _ in 0..<share {
                        if case .success(let response) = await client.execute(request).result, response.status == 200 {
                            ok += 1
                        } else {
                            failed += 1
                        }
                    }
                    return (ok, failed)
                }
            }
            return await group.reduce(into: (ok: 0, failed: 0)) {
                $0.ok += $1.ok
                $0.failed += $1.failed
            }
        }
        let elapsed = (clock.now - start) / .seconds(1)
        client.shutdown()
        let rate = Double(n) / elapsed
        writeLine(
            "probes=\(n) concurrency=\(c) ok=\(counts.ok) failed=\(counts.failed) seconds=\(fixed(elapsed, 3)) "
                + "probes_per_s=\(Int(rate)) peak_rss_mb=\(fixed(peakRSSMegabytes(), 1))"
        )
    }
}
