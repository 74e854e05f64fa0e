import AgentCore
import Journal
import Logging
import Paging
import Telemetry

extension Pagers {
    /// Journals `alert`, sends it to every pager, logs those that did not take it and counts it.
    func deliver(_ alert: Alert, journal: Journal, logger: Logger, metrics: AgentMetrics) async {
        _ = try? await journal.record("alert", detail: alert.summary)
        let failures = await send(Page(alert))
        for failure in failures { logger.error("page not delivered by \(failure.pager): \(failure.error)") }
        metrics.paged(delivered: failures.isEmpty)
    }
}
