import Foundation
import HTTP

/// How long a provider's 429 asks the caller to wait: `retry-after` (seconds, or an HTTP date:
/// RFC 9110) when it is sent — what the provider asks for. Without it, the reset headers:
/// Anthropic's `anthropic-ratelimit-requests-reset` (an RFC 3339 time) and OpenAI-style
/// `x-ratelimit-reset-requests` (`1s`, `6m0s`, `250ms`) say when the limit is *fully*
/// replenished, later than the next request may go: the shortest of them is taken. nil when none says.
public enum RateLimitHeaders {
    public static func wait(_ response: HTTPResponse, now: Date) -> Double? {
        if let value = response.header("retry-after")?.trimmingCharacters(in: .whitespaces) {
            let asked = Double(value) ?? httpDate(value)?.timeIntervalSince(now)
            if let asked, asked.isFinite, asked > 0 { return asked }
        }
        var resets: [Double] = []
        if let value = response.header("anthropic-ratelimit-requests-reset"), let date = try? Date(value, strategy: .iso8601) {
            resets.append(date.timeIntervalSince(now))
        }
        if let value = response.header("x-ratelimit-reset-requests"), let seconds = goDuration(value) { resets.append(seconds) }
        return resets.filter { $0.isFinite && $0 > 0 }.min()
    }

    private static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    /// `1h2m3.5s`, `250ms`: the duration format OpenAI's reset headers use.
    static func goDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        return total
    }
}
