import Agent
import AgentConfig
import AgentCore
import ControlAPI
import Demo
import Foundation
import HTTP
import Journal
import Scenarios
import Testing
import Timekeeping
import YAMLConfig

/// The agent — core, executors, clients, journal and API — against simulated Vault, GitLab, the
/// gateway and PagerDuty on 127.0.0.1, on virtual time: the loop turns once a second of a clock
/// only the test moves (inline: each turn carries out the work it starts), and the providers'
/// probes are answered from the scenario at the clock's time. A one-minute Vertex AI outage in a
/// five-minute story takes a fraction of a second and does not depend on the machine's load.
@Suite struct AgentEndToEndTests {
    static func scenario(recovery: String = "90s") throws -> Scenario {
        try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: short-vertex-outage
                seed: 9
                duration: 5m
                providers:
                  vertex:
                    - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0, class: http_5xx}}
                    - {at: 30s, failure: {rate: 1.0}}
                    - {at: \(recovery), failure: {rate: 0}}
                  bedrock:
                    - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0, class: http_5xx}}
                  anthropic:
                    - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0, class: overloaded}}
                """, file: "test"))
    }

    func world(
        _ mode: ActionMode, proposalLifetime: Double? = nil, scenario: Scenario? = nil, withDWS: Bool = false, grouped: Bool = true
    ) async throws -> DemoWorld {
        try await DemoWorld.start(
            scenario: try scenario ?? Self.scenario(), timing: .virtual(VirtualClock()), mode: mode, proposalLifetime: proposalLifetime,
            withDWS: withDWS, grouped: grouped
        ) { _ in }
    }

    /// Turns the loop a second at a time until `condition` holds, for at most `seconds` of
    /// scenario time (default 20 minutes).
    func wait(_ world: DemoWorld, seconds: Int = 1200, until condition: () async throws -> Bool) async throws -> Bool {
        try await world.turn(for: seconds, until: condition)
    }

    /// `GET /metrics` from the agent's own API.
    func scrape(_ world: DemoWorld) async throws -> String {
        let client = HTTPClient()
        defer { client.shutdown() }
        let response = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(world.api.port)/metrics")).result.get()
        #expect(response.status == 200)
        return response.bodyText
    }

    func openProposal(_ world: DemoWorld) async -> String? { await world.loop.status()["open_proposals"]?.array?.first?["id"]?.string }

    @Test func performFailsOverAndRestoresOnItsOwn() async throws {
        let world = try await world(.perform)
        #expect(
            try await wait(world) {
                await world.loop.actionsDone.count == 2 && world.secretValue == DemoWorld.original && world.gitlab.variables.isEmpty
            })
        #expect(world.gitlab.retries.count == 1, "the runbook's restore retries no job")
        let requests = world.gitlab.issues(in: DemoWorld.changeRequestProject)
        #expect(requests.count == 1 && requests.first?.state == "closed", "one change request, closed by the restore")
        // The next regular deployment goes out: the running agent verifies the gateway serves the restore.
        world.gitlab.deployRegularly(pipeline: 4712, sha: "7a11ed0c0de0", jobName: DemoWorld.deployJob)
        #expect(
            try await wait(world) {
                (try? await scrape(world))?.contains(
                    #"failover_agent_actions_total{action="restore",target="aigw-production",outcome="verified"} 1"#) == true
            })
        #expect(world.pagers.received.contains { $0.body["event_action"]?.string == "resolve" })
        let metrics = try await scrape(world)
        for line in [
            #"failover_agent_actions_total{action="failover",target="aigw-production",outcome="deployed"} 1"#,
            #"failover_agent_actions_total{action="restore",target="aigw-production",outcome="written"} 1"#,
            #"failover_agent_provider_state{provider="vertex",state="healthy"} 1.0"#,
            #"failover_agent_provider_state{provider="vertex",state="failing"} 0.0"#,
            #"failover_agent_paused 0.0"#,
        ] {
            #expect(metrics.contains(line), "\(line) in /metrics")
        }
        #expect(metrics.contains(#"failover_agent_probe_results_total{provider="vertex",class="http_5xx"} "#))
        #expect(metrics.contains(#"failover_agent_probe_duration_seconds_bucket{provider="bedrock",phase="first_byte",le="+Inf"} "#))
        #expect(metrics.contains(#"failover_agent_probe_duration_seconds_count{provider="anthropic",phase="total"} "#))
        await world.stop()
    }

    /// One model fails, its provider does not: the running agent fails over only that model (the
    /// features using it), verifies it live, and restores it once the model recovers.
    @Test func oneFailingModelIsFailedOverAloneAndRestored() async throws {
        let scenario = try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: short-model-outage
                seed: 9
                duration: 5m
                providers:
                  vertex:
                    phases:
                      - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0, class: http_5xx}}
                    models:
                      claude_sonnet_4_6_vertex:
                        - {at: 30s, failure: {rate: 1.0}}
                        - {at: 90s, failure: {rate: 0}}
                  bedrock:
                    - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0, class: http_5xx}}
                  anthropic:
                    - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0, class: overloaded}}
                """, file: "test"))
        let world = try await world(.perform, scenario: scenario)
        #expect(try await wait(world) { await world.loop.actionsDone.count == 2 && world.secretValue == DemoWorld.original })
        let reports = await world.loop.actionsDone
        #expect(reports.first?.verified == true, "the failover was verified on the gateway")
        let changed = Set(reports.first?.plan?.changes.map(\.feature) ?? [])
        #expect(changed == ["duo_chat", "code_generations"], "only the features using claude_sonnet_4_6_vertex: \(changed)")
        let status = await world.loop.status()
        #expect(status["providers"]?["vertex/claude_sonnet_4_6_vertex"]?["state"]?.string == "healthy")
        #expect(status["providers"]?["vertex"]?["state"]?.string == "healthy", "the provider itself never failed")
        await world.stop()
    }

    /// GitLab fails every try of the job retry: the action fails and pages with the secret written,
    /// and the redeploy it owes (recorded in the secret's metadata) is retried until it is done.
    @Test func aRedeployThatFailedIsRetriedUntilDone() async throws {
        let world = try await world(.perform, scenario: try Self.scenario(recovery: "299s"))
        world.gitlab.fail("POST", "/retry", status: 502, times: 3)  // every send of the first try, each read back as not carried out
        #expect(try await wait(world) { await world.loop.actionsDone.count == 2 })
        let outcomes = await world.loop.actionsDone.map(\.outcome)
        guard case .failed = outcomes[0] else {
            Issue.record("\(outcomes)")
            return
        }
        #expect(outcomes[1] == .deployed)
        #expect(
            world.gitlab.retries.count == 1 && world.vault.current(DemoWorld.secretPath)?.version == 2,
            "one write, one retry that GitLab carried out")
        let metadata = world.vault.customMetadata(DemoWorld.secretPath)
        #expect(
            metadata["failover-agent/state"]?.contains("pending") == false && metadata["failover-agent/state"]?.contains("vertex") == true)
        let summaries = { world.pagers.received.compactMap { $0.body["payload"]?["summary"]?.string } }
        #expect(
            try await wait(world) {
                summaries().contains {
                    $0.contains(
                        "failover of vertex on aigw-production did not happen: unavailable: retry of job #2 (🛫 [ai-gateway] Trigger "
                            + "runway deployment production): not carried out after 3 attempts")
                }
            }, "\(summaries())")
        await world.stop()
    }

    @Test func aPersonsEditBeforeTheRestoreIsLeftAloneAndPaged() async throws {
        let world = try await world(.perform)
        #expect(try await wait(world) { await world.loop.actionsDone.count == 1 })
        let written = try #require(world.secretValue)
        #expect(written.contains(#""generate_commit_message":["claude_haiku_4_5_20251001"]"#))
        // A person, by hand during the outage, puts Bedrock back for one feature the agent had changed.
        let edited = written.replacingOccurrences(
            of: #""generate_commit_message":["claude_haiku_4_5_20251001"]"#,
            with: #""generate_commit_message":["claude_haiku_4_5_20251001_bedrock"]"#)
        world.vault.put(DemoWorld.secretPath, ["value": .string(edited)])
        #expect(
            try await wait(world) {
                world.pagers.received.contains {
                    $0.body["payload"]?["summary"]?.string?.contains("generate_commit_message changed by a person") == true
                }
            })
        #expect(try await wait(world) { await world.loop.actionsDone.count == 2 })
        #expect(
            world.secretValue == #"{"generate_commit_message":["claude_haiku_4_5_20251001_bedrock"]}"#,
            "the person's value stays; the agent's other keys are gone")
        #expect(world.vault.current(DemoWorld.secretPath)?.version == 4, "one restore write, after the person's")
        #expect(world.gitlab.retries.count == 1, "the restore is left to the next deployment")
        #expect(world.vault.customMetadata(DemoWorld.secretPath).isEmpty, "the agent owns nothing any more")
        await world.stop()
    }

    @Test func proposeWaitsForApprovalThenActs() async throws {
        let world = try await world(.propose)
        #expect(try await wait(world) { await openProposal(world) != nil })
        let id = try #require(await openProposal(world))
        #expect(world.gitlab.retries.isEmpty, "nothing happens before the approval")
        let before = await world.loop.status()
        #expect(before["failing"]?.array?.contains(.string("vertex")) == true)
        #expect(before["failed_over"]?.array == [], "a proposal is open; nothing is failed over yet")
        #expect(
            try await wait(world) {
                world.pagers.received.contains { $0.body["payload"]?["summary"]?.string?.contains("failover-agent approve \(id)") == true }
            })
        #expect(await world.loop.approve(id) == .accepted("approved \(id): failover of vertex on aigw-production is under way"))
        #expect(try await wait(world) { world.gitlab.retries.count == 1 })
        #expect(await world.loop.approve(id) == .refused("proposal \(id) is already approved"))
        #expect(
            try await wait(world) {
                await world.loop.status()["failed_over"]?.array == [.string("vertex")] || world.secretValue == DemoWorld.original
            })
        #expect(await world.loop.reject(id) == .refused("proposal \(id) is already executed: there is nothing to reject"))
        #expect(try await wait(world) { world.secretValue == DemoWorld.original }, "restores are performed by default")
        await world.stop()
    }

    /// The AI Gateway and the Duo Workflow Service of one environment are one incident: one
    /// proposal, one change request, each service's own secret, job and verification, one restore.
    @Test func aGroupFailsOverTheGatewayAndDWSAsOneIncident() async throws {
        let world = try await world(.propose, scenario: try Self.scenario(recovery: "150s"), withDWS: true)
        #expect(try await wait(world) { await openProposal(world) != nil })
        let proposals = await world.loop.status()["open_proposals"]?.array ?? []
        #expect(proposals.count == 1 && proposals.first?["target"]?.string == "production", "one proposal for the group: \(proposals)")
        let id = try #require(await openProposal(world))
        #expect(
            try await wait(world) {
                world.pagers.received.contains {
                    let summary = $0.body["payload"]?["summary"]?.string ?? ""
                    return summary.contains("approve \(id)") && summary.contains("aigw-production") && summary.contains("dws-production")
                }
            }, "the page shows both services' plans")
        #expect(await world.loop.approve(id) == .accepted("approved \(id): failover of vertex on production is under way"))
        #expect(try await wait(world) { world.gitlab.retries.count == 2 })
        #expect(world.gitlab.retries == [2, 3], "each service's own trigger job, never ai-gateway-custom's")
        #expect(world.secretValue != DemoWorld.original && world.dwsSecretValue == world.secretValue)
        #expect(
            try await wait(world) {
                world.gateway.defaults(of: "generate_commit_message") == ["claude_haiku_4_5_20251001"]
                    && world.dwsGateway?.defaults(of: "generate_commit_message") == ["claude_haiku_4_5_20251001"]
            }, "both verified live")
        let requests = world.gitlab.issues(in: DemoWorld.changeRequestProject)
        #expect(requests.count == 1, "one change request for the incident")
        #expect(requests.first?.description.contains("dws-production") == true)
        #expect(requests.first?.notes.contains { $0.hasPrefix("**dws-production** fails vertex over too") } == true)
        #expect(
            try await wait(world) { world.secretValue == DemoWorld.original && world.dwsSecretValue == DemoWorld.original },
            "one restore undoes both, byte for byte")
        #expect(try await wait(world) { world.gitlab.issues(in: DemoWorld.changeRequestProject).first?.state == "closed" })
        #expect(world.gitlab.variables.isEmpty, "the expedited variable goes with the last holder")
        await world.stop()
    }

    /// A replacement that turns unhealthy between the proposal and its approval: nothing is
    /// written, and a new proposal with the new plan is paged; approving that one writes exactly it.
    @Test func aPlanThatChangedBeforeItsApprovalIsProposedAnewAndTheNewOneWrittenExactly() async throws {
        let scenario = try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: replacement-fails-while-proposed
                seed: 9
                duration: 5m
                providers:
                  vertex:
                    - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0, class: http_5xx}}
                    - {at: 30s, failure: {rate: 1.0}}
                  bedrock:
                    - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0, class: http_5xx}}
                    - {at: 70s, failure: {rate: 1.0}}
                  anthropic:
                    - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0, class: overloaded}}
                """, file: "test"))
        let world = try await world(.propose, scenario: scenario)
        func vertexProposal() async -> String? {
            await world.loop.status()["open_proposals"]?.array?.first { $0["provider"]?.string == "vertex" }?["id"]?.string
        }
        #expect(try await wait(world) { await vertexProposal() != nil })
        let first = try #require(await vertexProposal())
        let journal = world.journal
        let firstPlan = try #require(try await journal.proposal(first)).plan
        #expect(firstPlan.contains("bedrock"), "Bedrock is the first choice while it is healthy: \(firstPlan)")
        #expect(
            try await wait(world) {
                let state = await world.loop.status()["providers"]?["bedrock"]?["state"]?.string
                return state == "failing" || (state == "suspect" && world.scenarioTime > 80)
            })
        guard case .refused(let why) = await world.loop.approve(first) else {
            Issue.record("approved a plan whose replacement failed since")
            return
        }
        #expect(why.contains("changed since proposal \(first)") && why.contains("the override is now"), "\(why)")
        #expect(world.gitlab.retries.isEmpty && world.vault.current(DemoWorld.secretPath)?.version == 1, "nothing written")
        #expect(try await wait(world) { await vertexProposal().map { $0 != first } == true })
        let second = try #require(await vertexProposal())
        #expect(
            try await wait(world) {
                world.pagers.received.contains {
                    let summary = $0.body["payload"]?["summary"]?.string ?? ""
                    return summary.contains("approve \(second)") && summary.contains("replaces proposal \(first)")
                }
            }, "the new page says what changed")
        let approved = try #require(try await journal.proposal(second))
        let intended = try #require(
            JSONValue.parse(Array(approved.plan.utf8))?["targets"]?.array?.first?["intended"]?.string)
        #expect(!intended.contains("bedrock"), "the new plan avoids Bedrock: \(intended)")
        guard case .accepted = await world.loop.approve(second) else {
            Issue.record("the new proposal was not approved")
            return
        }
        #expect(try await wait(world) { world.gitlab.retries.count == 1 })
        #expect(world.secretValue == intended, "written byte for byte as approved")
        await world.stop()
    }

    /// A group's action killed (kill -9) after each step of its first target's failover: the
    /// restart finishes that target once, and fails the group's other target over too.
    @Test(arguments: ["secret-written", "job-retried", "deployed"])
    func aGroupKilledPartWayIsFinishedOnEveryTargetOnce(after step: String) async throws {
        let scenario = try ScenarioLoader.parse(
            YAMLFields.parse(
                """
                name: healthy-after-a-crash
                seed: 9
                duration: 5m
                providers:
                  vertex:
                    - {at: 0s, latency: {p50: 450ms, p99: 1500ms}, failure: {rate: 0, class: http_5xx}}
                  bedrock:
                    - {at: 0s, latency: {p50: 600ms, p99: 2s}, failure: {rate: 0, class: http_5xx}}
                  anthropic:
                    - {at: 0s, latency: {p50: 500ms, p99: 1800ms}, failure: {rate: 0, class: overloaded}}
                """, file: "test"))
        let world = try await world(.perform, scenario: scenario, withDWS: true)
        let journal = world.journal
        let intent = try await journal.beginIntent("failover", target: "aigw-production", provider: "vertex", detail: "")
        var dying = try #require(world.executors.first { $0.target.name == "aigw-production" })
        dying.onStep = { done in
            try await journal.step(intent, done.name, detail: done.detail)
            if done.name == step { throw Died() }
        }
        _ = await dying.failover(provider: "vertex", apply: true)
        #expect(world.dwsSecretValue == DemoWorld.original, "DWS's turn never came")
        #expect(
            try await wait(world) { world.dwsSecretValue != DemoWorld.original && world.gitlab.retries.count == 2 },
            "the restart finishes the gateway and fails DWS over too")
        #expect(world.gitlab.retries == [2, 3], "each service's job retried once")
        #expect(world.secretValue == world.dwsSecretValue)
        #expect(
            try await wait(world) { world.secretValue == DemoWorld.original && world.dwsSecretValue == DemoWorld.original },
            "then, healthy all along, both are restored")
        await world.stop()
    }

    /// A GitLab token with Developer only (the expedited variable needs Maintainer), expiring in
    /// three days: not ready in `/metrics`, `/status`, the status page and the proposal's page.
    @Test func aTokenLackingMaintainerShowsNotReadyEverywhere() async throws {
        let world = try await world(.propose)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let expiry = formatter.string(from: Date(timeIntervalSince1970: try #require(world.clock).unixTime + 3 * 86_400))
        world.gitlab.setAccess(.init(expiresAt: expiry, accessLevel: 30))
        func gitlabCheck() async -> JSONValue? {
            await world.loop.status()["readiness"]?["aigw-production"]?.array?.first { $0["check"]?.string == "gitlab" }
        }
        #expect(try await wait(world) { await gitlabCheck() != nil })
        let check = try #require(await gitlabCheck())
        #expect(check["ready"] == .bool(false) && check["reason"]?.string?.contains("access level 30") == true, "\(check)")
        let metrics = try await scrape(world)
        #expect(metrics.contains(#"failover_agent_ready{target="aigw-production",check="gitlab"} 0.0"#))
        #expect(metrics.contains(#"failover_agent_ready{target="aigw-production",check="vault"} 1.0"#))
        #expect(metrics.contains(#"failover_agent_credential_expiry_timestamp_seconds{target="aigw-production",credential="gitlab"} "#))
        let page = StatusPage.render(await world.loop.status())
        #expect(page.contains("NOT READY") && page.contains("access level 30 (Developer) on"))
        #expect(
            try await wait(world) {
                world.pagers.received.contains { $0.body["payload"]?["summary"]?.string?.contains("NOT READY") == true }
            }, "the proposal's page says an approval writes nothing until it is granted")
        await world.stop()
    }

    @Test func aProposalThatExpiresCannotBeApproved() async throws {
        let world = try await world(.propose, proposalLifetime: 40)
        #expect(try await wait(world) { await openProposal(world) != nil })
        let id = try #require(await openProposal(world))
        #expect(try await wait(world) { await openProposal(world) != id }, "the loop expires the proposal after its 40 s")
        guard case .refused(let why) = await world.loop.approve(id) else {
            Issue.record("approved an expired proposal")
            return
        }
        #expect(why.contains("expired") || why.contains("no longer applies"))
        #expect(world.gitlab.retries.isEmpty)
        await world.stop()
    }

    @Test func aStaleSHAAtApprovalTimeChangesNothing() async throws {
        let world = try await world(.propose)
        #expect(try await wait(world) { await openProposal(world) != nil })
        let id = try #require(await openProposal(world))
        world.gitlab.pushCommit("0123456789ab")  // a newer commit with no pipeline yet
        guard case .refused(let why) = await world.loop.approve(id) else {
            Issue.record("approved with a stale SHA")
            return
        }
        #expect(why.contains("changed since proposal \(id)"))
        #expect(try await !wait(world, seconds: 10) { !world.gitlab.retries.isEmpty }, "ten seconds on, still nothing retried")
        #expect(world.gitlab.retries.isEmpty)
        #expect(world.vault.current(DemoWorld.secretPath)?.version == 1)
        await world.stop()
    }

    @Test func pausedPagesButActsOnNothing() async throws {
        let world = try await world(.perform)
        await world.loop.setPaused(true)
        #expect(
            try await wait(world) { world.pagers.received.contains { $0.body["payload"]?["summary"]?.string?.contains("paused") == true } })
        #expect(world.gitlab.retries.isEmpty)
        #expect(world.vault.current(DemoWorld.secretPath)?.version == 1)
        await world.stop()
    }

    @Test func aPagerThatIsDownNeverBlocksAPerformFailover() async throws {
        let world = try await world(.perform)
        world.pagers.setDown(true)
        #expect(try await wait(world) { world.gitlab.retries.count >= 1 })
        #expect(world.pagers.received.isEmpty)
        await world.stop()
    }
}

/// What a kill -9 does to an action: nothing after it happens.
struct Died: Error {}
