import Agent
import ControlAPI
import Testing

@Suite struct StatusPageTests {
    let status: JSONValue = .object([
        "leader": .bool(true), "paused": .bool(true), "blind": .bool(false),
        "providers": .object([
            "vertex": .object([
                "state": .string("failing"), "error_rate": .number(0.875), "samples": .number(16), "last_class": .string("http_5xx"),
                "last_ttfb_ms": .number(12.5),
            ]),
            "bedrock": .object([
                "state": .string("healthy"), "error_rate": .number(0), "samples": .number(16), "last_class": .string("ok"),
                "last_ttfb_ms": .number(480),
            ]),
        ]),
        "open_proposals": .array([
            .object([
                "id": .string("a1b2c3"), "action": .string("failover"), "provider": .string("vertex"),
                "target": .string("aigw-<production>"),
                "expires_in_s": .number(840), "approve": .string("failover-agent approve a1b2c3"),
            ])
        ]),
        "recent_actions": .array([
            .object([
                "at": .string("2026-11-25T20:00:00Z"), "action": .string("restore"), "provider": .string("anthropic"),
                "target": .string("aigw-production"),
                "summary": .string("deployed: job success"), "sha": .string("0123456789abcdef0123"),
            ])
        ]),
        "failed_over": .array([.string("vertex")]),
    ])

    @Test func showsProvidersProposalsAndActions() {
        let page = StatusPage.render(status, refresh: 7)
        #expect(page.contains(#"<meta http-equiv="refresh" content="7">"#))
        #expect(
            page.contains(
                #"<tr class="failing"><td>vertex</td><td>failing</td><td>88 %</td><td>16</td><td>http_5xx</td><td>12.5</td></tr>"#))
        #expect(page.contains(#"<tr class="healthy"><td>bedrock</td><td>healthy</td><td>0 %</td>"#))
        #expect(page.contains("<code>failover-agent approve a1b2c3</code>"))
        #expect(page.contains("<td>840 s</td>"))
        #expect(page.contains("<td>deployed: job success</td><td>0123456789ab</td>"))
        #expect(page.contains("PAUSED") && !page.contains("BLIND"))
        #expect(page.contains("Failed over by this agent: vertex"))
        #expect(!page.contains("<script"))
    }

    @Test func escapesWhatItShows() {
        let page = StatusPage.render(status)
        #expect(page.contains("aigw-&lt;production&gt;"))
        #expect(!page.contains("aigw-<production>"))
    }

    @Test func saysWhenThereIsNothing() {
        let page = StatusPage.render(.object(["leader": .bool(false)]))
        #expect(page.contains("no provider is probed yet"))
        #expect(page.contains("follower"))
        #expect(page.contains("none since the agent started"))
    }
}
