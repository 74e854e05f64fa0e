import ArgumentParser
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

/// VmHWM of this process, in MB (Linux); read without Foundation so the number is the client's own.
func peakRSSMegabytes() -> Double {
    guard let file = fopen("/proc/self/status", "r") else { return .nan }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 256)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if line.hasPrefix("VmHWM:"), let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) { return kb / 1024 }
    }
    return .nan
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "nan" }
    let scale = (0..<digits).reduce(1.0) { r, _ in r * 10 }
    let scaled = Int((value * scale).rounded())
    let fraction = String(scaled % Int(scale))
    return "\(scaled / Int(scale)).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
}

/// One line on standard output, written at once (stdout may be a pipe).
func writeLine(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}
