/// The loop's periodic duties besides probing, pure: when each is due next. The loop asks at
/// every turn which are due, and sleeps no longer than ``nextDue``.
public struct Duties: Sendable {
    public enum Duty: Sendable, Hashable, CaseIterable {
        /// Read the gateway's traffic (every shortest source interval; one reading at a time).
        case readTraffic
        /// Run every target's readiness checks (every `readinessInterval`).
        case checkReadiness
        /// Start the fire drills that are due (every minute, with drill targets).
        case drills
    }

    private var next: [Duty: Double] = [:]
    private let every: [Duty: Double]
    /// A traffic reading is under way: the next waits for it.
    private var readingTraffic = false

    /// `trafficInterval`: nil without a traffic source.
    public init(readinessInterval: Double, trafficInterval: Double?, drills: Bool = false) {
        var every: [Duty: Double] = [.checkReadiness: readinessInterval]
        if let trafficInterval { every[.readTraffic] = trafficInterval }
        if drills { every[.drills] = 60 }
        self.every = every
        next = every.mapValues { _ in -Double.infinity }
    }

    /// The duties due at `now`, each scheduled again.
    public mutating func due(at now: Double) -> [Duty] {
        var due: [Duty] = []
        for duty in Duty.allCases {
            guard let at = next[duty], at <= now, let interval = every[duty] else { continue }
            if duty == .readTraffic {
                guard !readingTraffic else { continue }
                readingTraffic = true
            }
            next[duty] = now + interval
            due.append(duty)
        }
        return due
    }

    /// The traffic reading handed its result to the core.
    public mutating func trafficRead() { readingTraffic = false }

    /// When the next duty is due (a traffic reading under way is not: its end wakes the loop).
    public var nextDue: Double { next.filter { $0.key != .readTraffic || !readingTraffic }.values.min() ?? .infinity }
}
