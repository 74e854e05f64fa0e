import AgentConfig
import ControlSimulators
import Foundation
import HTTP
import Journal
import Paging
import Secrets
import Selection
import Synchronization
import Testing
import Timekeeping
import YAMLConfig

/// The hostile and careless cases of the hardening review, each as it was reported.
@Suite(.serialized) struct HardeningTests {
    /// Row 1: GitLab refuses a retry with a message quoting the token; neither the outcome, nor a
    /// page, nor the journal carries it.
    @Test func aRefusalQuotingTheTokenIsScrubbedEverywhere() async throws {
        let rig = try await Rig.start()
        rig.gitlab.addPipeline(id: 101, sha: "cccc3333", jobs: [.init(id: 10, name: Rig.deployJob, isBridge: true, retryable: false)])
        rig.gitlab.setRetryRefusal("403 Forbidden - token \(rig.gitlab.token) may not retry job 10")
        let report = await rig.executor.failover(provider: "vertex", apply: true)
        guard case .refused(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("may not retry job 10"))
        let page = Page(dedupKey: "k", summary: "failover did not happen: \(why) \(rig.gitlab.token)", details: [("why", rig.gitlab.token)])
        let settings = PagerSettings.webhook(url: "http://127.0.0.1:9/", token: nil)
        let body = String(
            decoding: try Pager(settings: settings, client: rig.client, environment: [:], clock: WallClock()).body(page).bytes,
            as: UTF8.self)
        let journal = try Journal(path: ":memory:", clock: WallClock())
        let id = try await journal.record("alert", detail: "refused: \(why) / \(rig.gitlab.token)")
        let stored = try await journal.history().first { $0.id == id }?.detail ?? ""
        for text in [Secrets.scrub(why), body, stored] {
            #expect(!text.contains(rig.gitlab.token), "\(text)")
            #expect(text.contains(Secrets.mask))
        }
        #expect(rig.gitlab.variables.isEmpty, "row 10: a refused redeploy leaves no expedited variable")
        #expect(rig.secret.value == Rig.original)
        await rig.stop()
    }

    /// Row 2: a Slack pager that is down: its webhook URL (the credential) is in no error.
    @Test func aSlackWebhookIsNeverShown() async throws {
        let webhook = "http://127.0.0.1:9/services/T000/B000/\(UUID().uuidString)"
        let client = HTTPClient()
        defer { client.shutdown() }
        let pager = try Pager(
            settings: .slack(webhook: .environment("SLACK")), client: client, environment: ["SLACK": webhook], retries: 0,
            clock: WallClock())
        let failures = await Pagers([pager]).send(Page(dedupKey: "k", summary: "s"))
        let error = try #require(failures.first?.error)
        #expect(!Secrets.scrub(error).contains("/services/T000"), "\(error)")
        #expect(!Secrets.scrub("posting to \(webhook) failed").contains("B000"))
        #expect(Secrets.redact(url: "https://hooks.slack.com/services/T1/B2/xyz") == "https://hooks.slack.com/services/[redacted]")
    }

    /// Row 5: a typo is refused and nothing is written; a provider no feature uses is not recorded.
    @Test func anUnknownOrUnusedProviderWritesNothing() async throws {
        let rig = try await Rig.start()
        let typo = await rig.executor.failover(provider: "vertx", apply: true)
        guard case .refused(let why) = typo.outcome else {
            Issue.record("\(typo.outcome)")
            return
        }
        #expect(why.contains("unknown provider 'vertx'"))
        #expect(rig.untouched())
        let unused = await rig.executor.failover(provider: "mistral", apply: true)
        #expect(unused.outcome == .nothingToDo("no feature of aigw-production uses a model of mistral: nothing to fail over"))
        #expect(rig.untouched())
        let plan = try await rig.executor.plan(failing: ["vertex"])
        #expect(!plan.changes.isEmpty)
        await rig.stop()
    }

    /// Row 8: at shutdown the agent stops following the deploy job at once; the owed redeploy
    /// stays recorded, and the next start follows the job it retried (no second retry).
    @Test func shutdownStopsFollowingAndTheOwedRedeployIsFinishedOnce() async throws {
        let rig = try await Rig.start()
        rig.gitlab.setPollsToFinish(1_000_000)
        let stop = Atomic<Bool>(false)
        var executor = rig.executor
        executor.stopping = { stop.load(ordering: .relaxed) }
        let action = Task { await executor.failover(provider: "vertex", apply: true) }
        while rig.gitlab.retries.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let start = ContinuousClock.now
        stop.store(true, ordering: .relaxed)
        let report = await action.value
        #expect(ContinuousClock.now - start < .seconds(5))
        guard case .interrupted(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("stays recorded as owed"))
        #expect(rig.ownership.pending != nil, "the owed redeploy is still recorded in the secret's metadata")
        rig.gitlab.setPollsToFinish(1)
        let next = try rig.replica()
        let settled = await next.settlePending(healthy: ["vertex", "bedrock", "anthropic"])
        #expect(settled?.outcome == .deployed)
        #expect(rig.gitlab.retries == [3], "one retry in all")
        #expect(rig.ownership.pending == nil)
        await rig.stop()
    }

    /// Row 12: ten thousand keys parse (lookups indexed) and keys the catalog does not know that name
    /// models of a failing provider are said to be left alone.
    @Test func aHugeOverrideParsesAndUnknownKeysAreMentioned() throws {
        let keys = (0..<10_000).map { #""feature_\#($0)":["claude_sonnet_4_6_vertex"]"# }
        let override = try ModelOverride.parse("{" + keys.joined(separator: ",") + "}")
        #expect(override.entries.count == 10_000)
        #expect(override["feature_9999"] == ["claude_sonnet_4_6_vertex"])
        var copy = override
        copy["feature_5000"] = nil
        #expect(copy["feature_5000"] == nil && copy["feature_5001"] != nil && copy.entries.count == 9_999)
        let plan = Fixtures.planner.plan(
            current: try ModelOverride.parse(#"{"new_feature":["claude_sonnet_4_6_vertex"]}"#), failing: ["vertex"])
        #expect(plan.untouched.contains { $0.feature == "new_feature" && $0.reason.contains("not a feature of unit_primitives.yml") })
        #expect(plan.override["new_feature"] == ["claude_sonnet_4_6_vertex"], "never edited")
    }

    /// Row 7 and 13: a model listed twice in models.yml, and a scenario of 99999 hours, are named.
    @Test func duplicateModelsAndEndlessScenariosAreNamed() {
        let models = "models:\n  - {gitlab_identifier: a_vertex}\n  - {gitlab_identifier: a_vertex}\n"
        #expect {
            _ = try CatalogLoader.models(YAMLFields.parse(models, file: "models.yml"))
        } throws: { error in
            "\(error)" == "models.yml:3: models[1].gitlab_identifier: a_vertex is listed twice"
        }
        let scenario = "name: x\nduration: 99999h\nproviders:\n  vertex:\n    - {at: 0s}\n"
        #expect {
            _ = try ScenarioLoader.parse(YAMLFields.parse(scenario, file: "s.yml"))
        } throws: { error in
            "\(error)" == "s.yml:2: duration: 99999h is too long: at most 168h"
        }
    }

    /// Row 14: pager URLs are checked when the config loads.
    @Test func pagerURLsAreCheckedAtLoad() {
        let text = "pagers:\n  - webhook: {url: 'gopher://pager.example/'}\n"
        #expect(throws: ConfigError.self) { try AgentConfiguration.parse(YAMLFields.parse(text, file: "agent.yml")) }
        do { _ = try AgentConfiguration.parse(YAMLFields.parse(text, file: "agent.yml")) } catch {
            #expect(
                error.description == "agent.yml:2: pagers[0].webhook.url: 'gopher://pager.example/' must start with https:// or http://")
        }
    }

    /// Row 15: a journal that cannot be opened is named.
    @Test func aJournalThatCannotOpenIsNamed() {
        #expect {
            _ = try Journal(path: "/nonexistent-dir/journal.sqlite", clock: WallClock())
        } throws: { error in
            "\(error)".contains("cannot open the journal /nonexistent-dir/journal.sqlite (agent.journal)")
        }
    }
}

enum Fixtures {
    static let planner: Planner = {
        let catalog = try! CatalogLoader.models(file: Rig.fixtures + "/models.yml")
        return Planner(
            catalog: catalog, features: try! CatalogLoader.features(file: Rig.fixtures + "/unit_primitives.yml", catalog: catalog))
    }()
}
