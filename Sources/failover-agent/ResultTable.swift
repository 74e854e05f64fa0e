import ProbeResults

/// Probe results as an aligned text table for people.
enum ResultTable {
    static func render(_ results: [ProbeResult]) -> String {
        let header = ["PROVIDER", "PROBE", "CLASS", "STATUS", "DNS", "CONNECT", "TLS", "TTFB", "TOTAL", "DETAIL"]
        let rows = results.map { r in
            [
                r.provider, r.probe, r.resultClass.rawValue, r.status.map(String.init) ?? "-",
                ms(r.dnsMs), ms(r.connectMs), ms(r.tlsMs), ms(r.ttfbMs), ms(r.totalMs),
                r.curlError.map { c in r.detail.map { "\(c): \($0)" } ?? c } ?? r.detail ?? "",
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }

    private static func ms(_ value: Double) -> String { JSONText.number(value) + "ms" }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
