import Health
import ProbeResults
import YAMLConfig

/// Reads the `policy:` section; every field is optional and defaults to ``HealthPolicy``'s value.
enum PolicyLoader {
    static func parse(_ yaml: YAMLFields) throws(ConfigError) -> HealthPolicy {
        var p = HealthPolicy()
        let durations: [(String, WritableKeyPath<HealthPolicy, Double>)] = [
            ("steady_interval", \.steadyInterval), ("confirm_interval", \.confirmInterval),
            ("window", \.window), ("min_outage", \.minOutage), ("min_healthy", \.minHealthy), ("max_healthy", \.maxHealthy),
            ("reflap_window", \.reflapWindow), ("latency_floor", \.latencyFloor), ("latency_ceiling", \.latencyCeiling),
            ("blind_window", \.blindWindow), ("brownout_interval", \.brownoutInterval), ("brownout_min_duration", \.brownoutMinDuration),
            ("brownout_watch", \.brownoutWatch),
        ]
        let fractions: [(String, WritableKeyPath<HealthPolicy, Double>)] = [
            ("trip_error_rate", \.tripErrorRate), ("clear_error_rate", \.clearErrorRate), ("blind_quorum", \.blindQuorum),
            ("brownout_baseline", \.brownoutBaseline), ("brownout_rate", \.brownoutRate), ("restore_error_rate", \.restoreErrorRate),
        ]
        let counts: [(String, WritableKeyPath<HealthPolicy, Int>)] = [
            ("min_samples", \.minSamples), ("max_in_flight", \.maxInFlight), ("clear_consecutive", \.clearConsecutive),
            ("baseline_samples", \.baselineSamples),
            ("baseline_min_samples", \.baselineMinSamples),
        ]
        try yaml.rejectUnknownKeys(
            Set(
                durations.map(\.0) + fractions.map(\.0) + counts.map(\.0)
                    + ["trip_consecutive", "latency_multiple", "control_provider", "weights", "brownout_threshold"]))
        for (key, path) in durations where yaml.has(key) {
            p[keyPath: path] = try yaml.duration(key, max: .seconds(86_400)).seconds
            guard p[keyPath: path] > 0 else { throw yaml.error(key, "must be more than 0") }
        }
        for (key, path) in fractions {
            guard let value = try yaml.optionalDouble(key) else { continue }
            guard (0...1).contains(value) else { throw yaml.error(key, "must be between 0 and 1") }
            p[keyPath: path] = value
        }
        for (key, path) in counts {
            guard let value = try yaml.optionalInt(key) else { continue }
            guard (1...100_000).contains(value) else { throw yaml.error(key, "must be between 1 and 100000") }
            p[keyPath: path] = value
        }
        if let value = try yaml.optionalDouble("trip_consecutive") {
            guard (1...100_000).contains(value) else { throw yaml.error("trip_consecutive", "must be between 1 and 100000") }
            p.tripConsecutive = value
        }
        if let value = try yaml.optionalDouble("latency_multiple") {
            guard (1...1000).contains(value) else { throw yaml.error("latency_multiple", "must be between 1 and 1000") }
            p.latencyMultiple = value
        }
        if let value = try yaml.optionalDouble("brownout_threshold") {
            guard (1...100).contains(value) else { throw yaml.error("brownout_threshold", "must be between 1 and 100") }
            p.brownoutThreshold = value
        }
        p.controlProvider = try yaml.optionalString("control_provider")
        if let weights = try yaml.optionalFields("weights") {
            for key in weights.keys {
                guard let resultClass = ProbeClass(rawValue: key), resultClass != .ok else {
                    throw weights.error(key, "is not a failure class")
                }
                guard let value = try weights.optionalDouble(key), (0...1).contains(value) else {
                    throw weights.error(key, "must be between 0 and 1")
                }
                if resultClass.isOurFault, value > 0 {
                    throw weights.error(key, "\(key) is our own fault and never counts against a provider")
                }
                p.weights[resultClass] = value
            }
        }
        try check(p, yaml)
        return p
    }

    /// Relations between thresholds that would make the machine flap or never act.
    private static func check(_ p: HealthPolicy, _ yaml: YAMLFields) throws(ConfigError) {
        if p.clearErrorRate >= p.tripErrorRate {
            throw yaml.error("clear_error_rate", "must be below trip_error_rate (\(p.tripErrorRate)) for hysteresis")
        }
        if p.confirmInterval > p.steadyInterval { throw yaml.error("confirm_interval", "must not exceed steady_interval") }
        if p.maxHealthy < p.minHealthy { throw yaml.error("max_healthy", "must not be below min_healthy") }
        if p.latencyFloor > p.latencyCeiling { throw yaml.error("latency_floor", "must not exceed latency_ceiling") }
        if !(0 < p.brownoutBaseline && p.brownoutBaseline < p.brownoutRate && p.brownoutRate < 1) {
            throw yaml.error("brownout_rate", "must be above brownout_baseline (\(p.brownoutBaseline)) and below 1")
        }
    }
}
