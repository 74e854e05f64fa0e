import Health
import ProbeResults
import YAMLConfig

/// Reads the `policy:` section; every field is optional and defaults to ``HealthPolicy``'s value.
enum PolicyLoader {
    private static let p = HealthPolicy()

    private static func seconds(
        _ name: String, _ path: WritableKeyPath<HealthPolicy, Double>, _ meaning: String
    ) -> (Field<Duration>, WritableKeyPath<HealthPolicy, Double>) {
        (.duration(name, default: .milliseconds(Int64((p[keyPath: path] * 1000).rounded())), meaning), path)
    }

    private static func fraction(
        _ name: String, _ path: WritableKeyPath<HealthPolicy, Double>, _ meaning: String
    ) -> (Field<Double>, WritableKeyPath<HealthPolicy, Double>) {
        (.number(name, default: p[keyPath: path], in: 0...1, meaning), path)
    }

    private static func count(
        _ name: String, _ path: WritableKeyPath<HealthPolicy, Int>, _ meaning: String
    ) -> (Field<Int>, WritableKeyPath<HealthPolicy, Int>) {
        (.integer(name, default: p[keyPath: path], in: 1...100_000, meaning), path)
    }

    private static var durations: [(Field<Duration>, WritableKeyPath<HealthPolicy, Double>)] {
        [
            seconds("steady_interval", \.steadyInterval, "the cadence of a quiet provider's probes"),
            seconds("confirm_interval", \.confirmInterval, "the cadence after a failure, to confirm or clear it in seconds"),
            seconds("window", \.window, "the error rate is over this window"),
            seconds("min_outage", \.minOutage, "an outage must last this long before it is acted on"),
            seconds("min_healthy", \.minHealthy, "healthy time before a restore"),
            seconds("max_healthy", \.maxHealthy, "the cap on the escalated healthy time"),
            seconds("reflap_window", \.reflapWindow, "a trip this soon after a restore doubles the next min_healthy"),
            seconds("latency_floor", \.latencyFloor, "a first byte under this is never slow"),
            seconds("latency_ceiling", \.latencyCeiling, "a first byte over this is always slow"),
            seconds("blind_window", \.blindWindow, "how fresh a provider's last result must be to count for blindness"),
            seconds("brownout_interval", \.brownoutInterval, "the cadence while brownout evidence stands"),
            seconds("brownout_min_duration", \.brownoutMinDuration, "a brownout must have lasted this long to trip"),
            seconds("brownout_watch", \.brownoutWatch, "the brownout cadence holds while failures over this window stay high"),
            seconds("traffic_min_duration", \.trafficMinDuration, "a brownout the gateway's traffic shows must have lasted this long"),
        ]
    }

    private static var fractions: [(Field<Double>, WritableKeyPath<HealthPolicy, Double>)] {
        [
            fraction("trip_error_rate", \.tripErrorRate, "an outage is when at least this share of the probes (weighted) fail"),
            fraction("clear_error_rate", \.clearErrorRate, "clearing needs a rate below this (below trip_error_rate: hysteresis)"),
            fraction("blind_quorum", \.blindQuorum, "blind when more than this share of the providers fail without an HTTP answer"),
            fraction("brownout_baseline", \.brownoutBaseline, "the failure rate a provider may keep for hours without a failover"),
            fraction("brownout_rate", \.brownoutRate, "the sustained failure rate the brownout test is tuned to catch"),
            fraction("restore_error_rate", \.restoreErrorRate, "a restore needs the rate over min_healthy shown below this (99 %)"),
        ]
    }

    private static var counts: [(Field<Int>, WritableKeyPath<HealthPolicy, Int>)] {
        [
            count("min_samples", \.minSamples, "an outage must be shown by at least this many probes since its onset"),
            count("max_in_flight", \.maxInFlight, "probes in flight at once"),
            count("clear_consecutive", \.clearConsecutive, "successes in a row that clear a suspicion or start a recovery"),
            count("baseline_samples", \.baselineSamples, "successful answers the latency baseline keeps"),
            count("baseline_min_samples", \.baselineMinSamples, "before this many, only latency_ceiling applies"),
        ]
    }

    private static var tripConsecutive: Field<Double> {
        .number("trip_consecutive", default: p.tripConsecutive, in: 1...100_000, "…and the latest probes fail in a row (weighted)")
    }
    private static var latencyMultiple: Field<Double> {
        .number("latency_multiple", default: p.latencyMultiple, in: 1...1000, "a first byte beyond this × the endpoint's p90 is slow")
    }
    private static var brownoutThreshold: Field<Double> {
        .number("brownout_threshold", default: p.brownoutThreshold, in: 1...100, "the CUSUM score at which a brownout trips")
    }
    private static var probeCapPerProvider: Field<Double> {
        .number(
            "probe_cap_per_provider", default: p.probeCapPerProvider, in: 1...HealthPolicy().probeCapPerProvider,
            "probe requests a minute to one provider, all its endpoints together: never exceeded, only lowered")
    }
    private static var probeCapPerEndpoint: Field<Double> {
        .number(
            "probe_cap_per_endpoint", default: p.probeCapPerEndpoint, in: 1...HealthPolicy().probeCapPerEndpoint,
            "probe requests a minute to one endpoint: never exceeded, only lowered")
    }
    private static var sandboxSpeed: Field<Double> {
        .number(
            "sandbox_speed", default: 1, in: 1...1000,
            "only against simulated providers on compressed time: the probe caps are multiplied by it (never above 1 against real ones)")
    }
    private static var controlProvider: Field<String?> {
        .optionalText("control_provider", "a probe of a known-good endpoint; when set, blindness also needs it to fail")
    }
    private static var weights: Field<YAMLFields?> {
        .section(
            "weights",
            ConfigSection(
                "policy.weights", "How much one failure of each class counts (0 to 1; `auth` and `bad_request` are always 0).",
                entries: .init(
                    key:
                        "a failure class (\(ProbeClass.allCases.filter { $0 != .ok }.map(\.rawValue).joined(separator: ", "))); its value a number"
                )),
            none: "rate_limited: 0.5, others 1", "how much one failure of each class counts")
    }

    static var section: ConfigSection {
        let fields: [any DeclaredField] =
            durations.map(\.0) + fractions.map(\.0) + counts.map(\.0) as [any DeclaredField]
            + [
                tripConsecutive, latencyMultiple, brownoutThreshold, probeCapPerProvider, probeCapPerEndpoint, sandboxSpeed,
                controlProvider, weights,
            ]
        return ConfigSection("policy", "The health machine's thresholds (docs/health.md); every field is optional.", fields: fields)
    }

    static func parse(_ fields: YAMLFields) throws(ConfigError) -> HealthPolicy {
        let yaml = try fields.conform(to: section)
        var p = HealthPolicy()
        for (field, path) in durations { p[keyPath: path] = try yaml.read(field).seconds }
        for (field, path) in fractions { p[keyPath: path] = try yaml.read(field) }
        for (field, path) in counts { p[keyPath: path] = try yaml.read(field) }
        p.tripConsecutive = try yaml.read(tripConsecutive)
        p.latencyMultiple = try yaml.read(latencyMultiple)
        p.brownoutThreshold = try yaml.read(brownoutThreshold)
        // The caps are rates: in a sandbox whose time runs faster, a minute passes sooner.
        let speed = try yaml.read(sandboxSpeed)
        p.probeCapPerProvider = try yaml.read(probeCapPerProvider) * speed
        p.probeCapPerEndpoint = try yaml.read(probeCapPerEndpoint) * speed
        p.controlProvider = try yaml.read(controlProvider)
        if let weights = try yaml.read(weights) {
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
        // A restore needs its rate shown below restore_error_rate by enough probes, and the cap
        // bounds how many fit in min_healthy: a policy under which that can never happen is refused.
        let needed = RecoveryEvidence.probesNeeded(below: p.restoreErrorRate)
        let spacing = 60 / p.probeCapPerEndpoint
        let fit = Int((p.minHealthy / spacing + 1e-9).rounded(.down))
        if fit < needed {
            let smallest = (Double(needed) * spacing).rounded(.up)
            throw yaml.error(
                "min_healthy",
                "\(Int(p.minHealthy)) s allows at most \(fit) probes of an endpoint at probe_cap_per_endpoint "
                    + "\(Int(p.probeCapPerEndpoint)) a minute, and a restore needs \(needed) in a row without a failure to show the "
                    + "failure rate below restore_error_rate \(p.restoreErrorRate) with 99 % confidence: no restore could ever happen. "
                    + "min_healthy must be at least \(Int(smallest))s (or restore_error_rate higher)")
        }
    }
}
