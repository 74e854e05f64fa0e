import CoreMetrics
import Prometheus

/// A Prometheus registry and the ``AgentMetrics`` that feed it; `text()` is the `/metrics` body.
/// Every family carries its ``MetricName/help`` text.
public struct PrometheusMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let metrics: AgentMetrics

    public init() {
        registry = PrometheusCollectorRegistry()
        metrics = AgentMetrics(factory: DescribedFactory(registry: registry))
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func text() -> [UInt8] { registry.emitToBuffer() }
}

/// swift-metrics onto the registry, with HELP text from ``MetricName`` (swift-prometheus's own
/// factory registers every family without one).
struct DescribedFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    /// Probe phases on loopback take microseconds and real providers seconds: buckets span both.
    let buckets: [Duration] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000].map { .milliseconds($0) }

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricName(rawValue: label)?.help ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
