/// Keeps the probes' daily cost within `agent.max_probe_cost_per_day` by stretching the steady
/// interval of the least important endpoints first, up to ``longestInterval``. Confirmation and
/// recovery probes are never stretched: they follow a failure, and are what a decision rests on.
/// Pure: endpoints and a budget in, intervals out.
public enum ProbeBudget {
    public struct Endpoint: Sendable, Equatable {
        public var name: String
        /// US dollars per probe.
        public var costPerProbe: Double
        /// Lower is more important: stretched last.
        public var rank: Int

        public init(name: String, costPerProbe: Double, rank: Int) {
            self.name = name
            self.costPerProbe = costPerProbe
            self.rank = rank
        }
    }

    /// The longest steady interval the budget may impose: a failure is still noticed within it.
    public static let longestInterval = 900.0

    /// Dollars a day for probes `interval` seconds apart.
    public static func perDay(costPerProbe: Double, interval: Double) -> Double { costPerProbe * 86_400 / interval }

    /// Each endpoint's steady interval: `steady`, or longer for the least important ones when the
    /// total would pass `maxPerDay`. nil when even ``longestInterval`` for all cannot meet it.
    public static func intervals(_ endpoints: [Endpoint], steady: Double, maxPerDay: Double?) -> [String: Double]? {
        var intervals = Dictionary(endpoints.map { ($0.name, steady) }, uniquingKeysWith: { a, _ in a })
        guard let maxPerDay else { return intervals }
        func total() -> Double { endpoints.reduce(0) { $0 + perDay(costPerProbe: $1.costPerProbe, interval: intervals[$1.name]!) } }
        for rank in Set(endpoints.map(\.rank)).sorted(by: >) {
            if total() <= maxPerDay * (1 + 1e-9) { return intervals }
            let tier = endpoints.filter { $0.rank == rank }
            let tierCost = tier.reduce(0) { $0 + $1.costPerProbe } * 86_400
            let others = total() - tier.reduce(0) { $0 + perDay(costPerProbe: $1.costPerProbe, interval: intervals[$1.name]!) }
            let needed = maxPerDay > others ? tierCost / (maxPerDay - others) : .infinity
            let interval = min(max(needed, steady), longestInterval)
            for endpoint in tier { intervals[endpoint.name] = interval }
        }
        return total() <= maxPerDay * (1 + 1e-9) ? intervals : nil
    }
}
