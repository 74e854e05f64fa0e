/// Durations written as `250ms`, `10s`, `1.5m`, `2h`, or compounds such as `1h30m` and `10m30s`.
public enum DurationText {
    /// The longest duration any field accepts (a field may set a lower bound): 366 days.
    public static let ceiling: Duration = .seconds(366 * 86_400)

    /// Parses `text`; nil unless it is one or more number-unit pairs (`ms`, `s`, `m`, `h`) adding up
    /// to at most ``ceiling`` (so no input can overflow).
    public static func parse(_ text: String) -> Duration? {
        guard let total = seconds(text), total <= ceiling.seconds else { return nil }
        return .milliseconds(Int64((total * 1000).rounded()))
    }

    /// The seconds `text` spells, however many (a finite number), or nil unless it is number-unit pairs.
    public static func seconds(_ text: String) -> Double? {
        let units: [Substring: Double] = ["ms": 1e-3, "s": 1, "m": 60, "h": 3600]
        var rest = Substring(text.trimmingWhitespace())
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), value.isFinite, let seconds = units[unit] else { return nil }
            total += value * seconds
        }
        return total.isFinite ? total : nil
    }

    /// The shortest exact spelling: `1500ms`, `10s`, `2m`, `1h`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration / .milliseconds(1)
        if ms.truncatingRemainder(dividingBy: 3_600_000) == 0, ms > 0 { return "\(Int(ms / 3_600_000))h" }
        if ms.truncatingRemainder(dividingBy: 60_000) == 0, ms > 0 { return "\(Int(ms / 60_000))m" }
        if ms.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(ms / 1000))s" }
        return "\(Int(ms))ms"
    }
}

extension Duration {
    /// This duration in seconds, as a floating-point number.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
