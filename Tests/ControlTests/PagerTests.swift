import ControlSimulators
import HTTP
import Paging
import Testing
import Timekeeping

@Suite(.serialized) struct PagerTests {
    let page = Page(
        dedupKey: "failover-agent/aigw-production/vertex", summary: "Vertex AI is failing: approve the failover", severity: .critical,
        details: [
            ("approve", "failover-agent approve ab12cd"), ("plan", "duo_chat: claude_sonnet_4_6_vertex → claude_sonnet_4_6_bedrock"),
        ])

    @Test func pagerDutySlackAndWebhookGetTheirShapes() async throws {
        let sink = try await PagerSink.start()
        let client = HTTPClient()
        let env = ["PD_KEY": "R0UTINGKEY123", "SLACK_URL": sink.url + "/slack", "HOOK_TOKEN": "hook-secret"]
        let pagers = Pagers([
            try Pager(
                settings: .pagerDuty(routingKey: .environment("PD_KEY"), url: sink.url), client: client, environment: env,
                clock: WallClock()),
            try Pager(settings: .slack(webhook: .environment("SLACK_URL")), client: client, environment: env, clock: WallClock()),
            try Pager(
                settings: .webhook(url: sink.url + "/webhook", token: .environment("HOOK_TOKEN")), client: client, environment: env,
                clock: WallClock()),
        ])
        #expect(await pagers.send(page).isEmpty)
        var resolved = page
        resolved.action = .resolve
        #expect(await pagers.send(resolved).isEmpty)
        let received = sink.received
        let pd = received.filter { $0.path == "/v2/enqueue" }
        #expect(pd.count == 2)
        #expect(pd[0].body["routing_key"]?.string == "R0UTINGKEY123")
        #expect(pd[0].body["event_action"]?.string == "trigger")
        #expect(pd[0].body["dedup_key"]?.string == page.dedupKey)
        #expect(pd[0].body["payload"]?["severity"]?.string == "critical")
        #expect(pd[0].body["payload"]?["custom_details"]?["approve"]?.string == "failover-agent approve ab12cd")
        #expect(pd[1].body["event_action"]?.string == "resolve")
        let slack = received.filter { $0.path == "/slack" }
        #expect(slack.first?.body["text"]?.string == ":rotating_light: Vertex AI is failing: approve the failover")
        #expect(slack.last?.body["text"]?.string?.hasPrefix("Resolved: ") == true)
        let hook = received.first { $0.path == "/webhook" }
        #expect(hook?.authorization == "Bearer hook-secret")
        #expect(hook?.body["details"]?["approve"]?.string == "failover-agent approve ab12cd")
        client.shutdown()
        await sink.stop()
    }

    @Test func aPagerThatIsDownFailsAloneAndQuickly() async throws {
        let sink = try await PagerSink.start()
        let down = try await PagerSink.start()
        down.setDown(true)
        let client = HTTPClient()
        let env = ["PD_KEY": "key", "DOWN_KEY": "other"]
        let pagers = Pagers([
            try Pager(
                settings: .pagerDuty(routingKey: .environment("PD_KEY"), url: sink.url), client: client, environment: env,
                timeout: .seconds(30), clock: WallClock()),
            try Pager(
                settings: .pagerDuty(routingKey: .environment("DOWN_KEY"), url: down.url), client: client, environment: env,
                timeout: .seconds(30), retries: 2, backoff: .milliseconds(10), clock: WallClock()),
        ])
        let clock = ContinuousClock()
        let start = clock.now
        let failures = await pagers.send(page)
        // Bounded at half the pagers' timeout, so a machine loaded by the rest of the suite cannot fail it.
        #expect(clock.now - start < .seconds(15), "well within one pager timeout (30 s): the pager that is down does not hold the others")
        #expect(failures.count == 1)
        #expect(failures.first?.pager == "pagerduty")
        #expect(failures.first?.error.contains("unavailable") == true)
        #expect(sink.received.count == 1)
        client.shutdown()
        await sink.stop()
        await down.stop()
    }
}
