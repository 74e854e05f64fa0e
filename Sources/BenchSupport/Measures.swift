import Glibc

/// VmHWM of this process, in MB (Linux); read without Foundation so the number is the client's own.
public func peakRSSMegabytes() -> Double {
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
public func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "nan" }
    let scale = (0..<digits).reduce(1.0) { r, _ in r * 10 }
    let scaled = Int((value * scale).rounded())
    let fraction = String(scaled % Int(scale))
    return "\(scaled / Int(scale)).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
}

/// One line on standard output, written at once (stdout may be a pipe).
public func writeLine(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}
