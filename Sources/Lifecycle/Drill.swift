/// A fire drill's settings (`targets[].drill`): a real failover of `provider` and its restore,
/// every `every`, inside `window` when one is given. Only a target with them can be drilled.
public struct DrillSettings: Sendable, Equatable {
    public var provider: String
    /// Seconds between drills.
    public var every: Double
    public var window: DrillWindow?

    public init(provider: String, every: Double, window: DrillWindow? = nil) {
        (self.provider, self.every, self.window) = (provider, every, window)
    }

    /// Whether a drill is due at `unixTime`, the last one having succeeded at `lastSuccess`
    /// (nil: never) and the last one started at `lastAttempt`: `every` since the last success,
    /// at most one attempt per window (or per hour without one), and inside the window.
    public func due(at unixTime: Double, lastSuccess: Double?, lastAttempt: Double?) -> Bool {
        if let lastSuccess, unixTime - lastSuccess < every { return false }
        if let lastAttempt, unixTime - lastAttempt < (window == nil ? 3600 : window!.length) { return false }
        return window?.contains(unixTime) ?? true
    }
}

/// When drills may run: `Tue 09:00-12:00 UTC`, `Mon,Thu 14:00-15:30 UTC`, or `09:00-17:00 UTC`
/// (every day). Times are UTC; a window does not cross midnight.
public struct DrillWindow: Sendable, Equatable, CustomStringConvertible {
    /// ISO weekdays, 1 Monday … 7 Sunday; empty: every day.
    public var days: Set<Int>
    /// Minutes after midnight UTC.
    public var start: Int
    public var end: Int

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Parses the window; the error says what is wrong.
    public init(parsing text: String) throws(DrillWindowError) {
        var words = text.split(separator: " ").map(String.init)
        guard words.last?.uppercased() == "UTC" else { throw DrillWindowError("'\(text)' must end in UTC (windows are in UTC)") }
        words.removeLast()
        guard let range = words.popLast() else { throw DrillWindowError("'\(text)' has no time range (write e.g. Tue 09:00-12:00 UTC)") }
        let bounds = range.split(separator: "-").map(String.init)
        guard bounds.count == 2, let start = Self.minutes(bounds[0]), let end = Self.minutes(bounds[1]) else {
            throw DrillWindowError("'\(range)' is not a time range HH:MM-HH:MM")
        }
        guard start < end else { throw DrillWindowError("'\(range)' ends before it starts (a window does not cross midnight)") }
        var days: Set<Int> = []
        for name in words.joined(separator: ",").split(separator: ",") {
            guard let index = Self.dayNames.firstIndex(of: name.lowercased()) else {
                throw DrillWindowError("'\(name)' is not a weekday (Mon … Sun)")
            }
            days.insert(index + 1)
        }
        (self.days, self.start, self.end) = (days, start, end)
    }

    /// Seconds the window lasts.
    public var length: Double { Double(end - start) * 60 }

    /// Whether `unixTime` falls inside the window.
    public func contains(_ unixTime: Double) -> Bool {
        let day = Int((unixTime / 86_400).rounded(.down))
        let minute = Int((unixTime - Double(day) * 86_400) / 60)
        // 1970-01-01 was a Thursday (ISO 4).
        let weekday = ((day % 7) + 7 + 3) % 7 + 1
        return (days.isEmpty || days.contains(weekday)) && (start..<end).contains(minute)
    }

    public var description: String {
        let names = days.sorted().map { Self.dayNames[$0 - 1].prefix(1).uppercased() + Self.dayNames[$0 - 1].dropFirst() }
        let time = { (minutes: Int) in "\(minutes / 60 < 10 ? "0" : "")\(minutes / 60):\(minutes % 60 < 10 ? "0" : "")\(minutes % 60)" }
        return (names.isEmpty ? "" : names.joined(separator: ",") + " ") + "\(time(start))-\(time(end)) UTC"
    }

    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h),
            (0..<60).contains(m), h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }
}

public struct DrillWindowError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
