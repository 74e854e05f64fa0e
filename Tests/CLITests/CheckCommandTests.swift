import ControlAPI
import ControlSimulators
import Foundation
import HTTPServer
import Synchronization
import Testing

/// `failover-agent check` as an operator runs it: offline on the shipped example, online against
/// simulated Vault and GitLab, and on bad files.
@Suite(.serialized) struct CheckCommandTests {
    let cli = ProbeCommandTests()
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    func write(_ text: String, name: String = "agent.yml") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        return directory + "/" + name
    }

    @Test func theShippedExamplePrintsEachProvidersBlastRadius() throws {
        let (status, out, err) = try cli.run(["check", "--config", Self.root + "/deploy/config.example.yml"], environment: [:])
        #expect(status == 0, "\(err)")
        #expect(out.contains("vertex: 6 feature(s) depend on it"))
        #expect(out.contains("  duo_chat: claude_sonnet_4_6_vertex -> claude_sonnet_4_6_bedrock"))
        #expect(out.contains("! embeddings_code cannot fail over: its only selectable model is text_embedding_005_vertex"))
        #expect(out.contains("! duo_agent_platform_agentic_chat small stays on claude_haiku_4_5_20251001_vertex"))
        #expect(out.contains("unmanaged models (never removed, never chosen): 4, used by features:"))
        #expect(out.contains("  amazon_q: amazon_q_integration"))
        #expect(out.contains("every plan passes the gateway's validation"))
        #expect(out.contains("note: ") && out.contains("ANTHROPIC_API_KEY is not set"), "unset credentials are notes offline")
        // Every probed endpoint with its daily cost, derived from the catalog by model_probes.
        #expect(out.contains("probes: 13 endpoint(s), $4.18 a day in steady state (agent.max_probe_cost_per_day: $10.00)"), "\(out)")
        #expect(out.contains("  vertex/claude_sonnet_4_6_vertex             serves    5s     0.000020   0.346"))
        #expect(out.contains("  bedrock/claude_sonnet_4_6_bedrock           replaces  5s     0.000020   0.346"))
        #expect(out.contains("  per provider: anthropic $1.38, bedrock $1.38, fireworks $0.035, vertex $1.38"))
        // What each endpoint takes from the provider's quota at each cadence, under the cap.
        #expect(
            out.contains("  vertex/claude_sonnet_4_6_vertex             serves    5s     0.000020   0.346      12      30      60\n"),
            "\(out)")
        #expect(
            out.contains(
                "  requests a minute per provider, steady / every endpoint in question (cap 120): anthropic 48 / 120, bedrock 48 / 120, "
                    + "fireworks 12 / 60, vertex 48 / 120"))
        #expect(out.contains("  not probed: gpt_5_mini (openai, default in summarize_comments): model_probes has no openai"))
        #expect(out.contains("  not probed: text_embedding_005_vertex (vertex, default in embeddings_code): an embedding model"))
    }

    @Test func aProbeBudgetStretchesReplacementsAndAnUnreachableOneExits2() throws {
        let fixtures = Self.root + "/fixtures/aigw"
        let base =
            "catalog:\n  models: \(fixtures)/models.yml\n  unit_primitives: \(fixtures)/unit_primitives.yml\n"
            + "model_probes:\n  anthropic: {api_key_env: K}\n  bedrock: {access_key_id_env: A, secret_access_key_env: B}\n"
        let (status, out, err) = try cli.run(
            ["check", "--config", try write(base + "agent: {max_probe_cost_per_day: 1}\n")], environment: [:])
        #expect(status == 0, "\(err)")
        #expect(out.contains("(agent.max_probe_cost_per_day: $1.00)"), "\(out)")
        #expect(out.contains("replaces  ") && out.contains("s*  "), "replacements are probed less often: \(out)")
        #expect(out.contains("probed less often to keep within the budget"))
        let (refused, _, why) = try cli.run(
            ["check", "--config", try write(base + "agent: {max_probe_cost_per_day: 0.001}\n")], environment: [:])
        #expect(refused == 2)
        #expect(why.contains("agent.max_probe_cost_per_day: cannot be met"), "\(why)")
    }

    @Test func aBadCorrectionOrSpecExits2NamingFileLineAndField() throws {
        let fixtures = Self.root + "/fixtures/aigw"
        let config = try write(
            "catalog:\n  models: \(fixtures)/models.yml\n  unit_primitives: \(fixtures)/unit_primitives.yml\n  providers:\n    "
                + "codestral_2508_vertex: vertex_ai\n"
        )
        let (status, out, err) = try cli.run(["check", "--config", config], environment: [:])
        #expect(status == 2)
        #expect(out.isEmpty)
        #expect(err.contains("\(config):5: catalog.providers.codestral_2508_vertex: 'vertex_ai' is not a provider name: write vertex"))

        let probes = (config as NSString).deletingLastPathComponent + "/probes"
        try FileManager.default.createDirectory(atPath: probes, withIntermediateDirectories: true)
        try "provider: vertex\nurl: https://x/\ntimeout: forever\n".write(toFile: probes + "/v.yml", atomically: true, encoding: .utf8)
        let good = try write(
            "catalog:\n  models: \(fixtures)/models.yml\n  unit_primitives: \(fixtures)/unit_primitives.yml\nagent:\n  probes: \(probes)\n")
        let (specStatus, _, specErr) = try cli.run(["check", "--config", good], environment: [:])
        #expect(specStatus == 2)
        #expect(specErr.contains("\(probes)/v.yml:3: timeout:"))
    }

    @Test func onlineReadsTheSecretAndChecksThePipeline() async throws {
        let vault = try await VaultSimulator.start()
        let gitlab = try await ControlCommandTests.gitlab()
        defer {
            Task {
                await vault.stop()
                await gitlab.stop()
            }
        }
        vault.put(ControlCommandTests.path, ["value": .string(#"{"duo_chat": ["claude_sonnet_4_6"]}"#)])
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true)])
        let file = try ControlCommandTests().config(vault: vault, gitlab: gitlab)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]
        let (status, out, _) = try cli.run(["check", "--config", file, "--online"], environment: env)
        #expect(status == 0, "\(out)")
        #expect(out.contains("target aigw-production: secret version 1, 1 override key(s)"))
        #expect(out.contains("  deploy: pipeline #7 at f00dbabe is what production runs and the newest pipeline of the branch"), "\(out)")
        #expect(
            out.contains(
                "  a failover would retry pipeline #7 of 42 at f00dbabe: trigger job #1 "
                    + "'🛫 [ai-gateway] Trigger runway deployment production' (deploy_job: /^🛫 \\[ai-gateway\\] Trigger runway "
                    + "deployment production$/, the only match)"), "\(out)")
        #expect(
            out.contains("  anthropic: 4 feature(s) depend on it")
                && out.contains("    duo_chat: claude_sonnet_4_6 -> claude_sonnet_4_6_bedrock"),
            "duo_chat is on Anthropic through the override")
        #expect(out.contains("  ready vault: may read and write runway/") && out.contains("  ready gitlab: scope api, Maintainer on 42"))
        #expect(vault.current(ControlCommandTests.path)?.version == 1 && gitlab.retries.isEmpty, "nothing touched")

        gitlab.setAccess(.init(expiresAt: "2099-01-01", accessLevel: 20))
        let (reporter, reporterOut, _) = try cli.run(["check", "--config", file, "--online"], environment: env)
        #expect(reporter == 1)
        #expect(
            reporterOut.contains("  NOT READY gitlab: the GitLab token's user has access level 20 (Reporter) on 42; it needs"),
            "\(reporterOut)")
        gitlab.setAccess(.init())

        gitlab.addPipeline(id: 8, sha: "0ddba11", jobs: [])
        let (stale, staleOut, _) = try cli.run(["check", "--config", file, "--online"], environment: env)
        #expect(stale == 1)
        #expect(staleOut.contains("no job or trigger job in pipeline #8 matches deploy_job"))
        #expect(!staleOut.contains(vault.token) && !staleOut.contains(gitlab.token))
    }

    /// A Prometheus query API's answer: an instant vector of these series at `t`.
    static func vector(_ series: [(labels: [String: String], value: Double)], at t: Double) -> ServerReply {
        let result = series.map { labels, value in
            JSONValue.object(["metric": .object(labels.mapValues { .string($0) }), "value": .array([.number(t), .string("\(value)")])])
        }
        let answer = JSONValue.object([
            "status": .string("success"), "data": .object(["resultType": .string("vector"), "result": .array(result)]),
        ])
        return .json(200, String(decoding: answer.bytes, as: UTF8.self))
    }

    /// `--online` reads the traffic source once as the agent would: counts per subject, the newest
    /// sample's age, the series no subject takes; a source that does not answer is not ready.
    @Test func onlineReadsTheTrafficSource() async throws {
        let vault = try await VaultSimulator.start()
        let gitlab = try await ControlCommandTests.gitlab()
        let newest = Date().timeIntervalSince1970 - 4
        let prometheus = try await HTTPServer.start { request in
            guard request.header("authorization") == "Bearer query-token" else { return .json(401, #"{"status":"error"}"#) }
            return Self.vector(
                request.uri.contains("timestamp")
                    ? [([:], newest)]
                    : [
                        (["model_engine": "litellm-chat", "model_name": "claude-sonnet-4-6", "error": "no", "error_type": "none"], 140),
                        (["model_engine": "litellm-chat", "model_name": "claude-sonnet-4-6", "error": "yes", "error_type": "other"], 10),
                        (["model_engine": "anthropic-chat", "model_name": "claude-sonnet-4-6", "error": "no", "error_type": "none"], 30),
                        (["model_engine": "litellm-chat", "model_name": "gpt-9", "error": "no", "error_type": "none"], 3),
                    ], at: newest)
        }
        defer {
            Task {
                await vault.stop()
                await gitlab.stop()
                await prometheus.stop()
            }
        }
        vault.put(ControlCommandTests.path, ["value": .string("{}")])
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true)])
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token, "QUERY_TOKEN": "query-token"]
        let traffic = "    traffic:\n      url: \(prometheus.baseURL)\n      token_env: QUERY_TOKEN\n"
        let file = try ControlCommandTests().config(vault: vault, gitlab: gitlab, extra: traffic)
        let (status, out, _) = try cli.run(["check", "--config", file, "--online"], environment: env)
        #expect(status == 0, "\(out)")
        let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("  ready traffic: ") }, "\(out)")
        #expect(
            line.hasPrefix(
                "  ready traffic: \(prometheus.baseURL): requests over the last 30 s: anthropic 30 (0 failed), vertex 150 (10 failed); "
                    + "newest sample "), "\(line)")
        // The stand-in's newest sample is 4 s old when it starts; the command takes a moment to start.
        let age = line.split(separator: " ").dropLast(2).last.flatMap { Int($0) } ?? -1
        #expect((4...30).contains(age), "\(line)")
        #expect(out.contains("  note: series no subject takes (left out): litellm-chat/gpt-9"))
        #expect(!out.contains("query-token"), "the token never shows")

        let down = try ControlCommandTests().config(
            vault: vault, gitlab: gitlab, extra: "    traffic:\n      url: http://127.0.0.1:9\n      token_env: QUERY_TOKEN\n")
        let (downStatus, downOut, _) = try cli.run(["check", "--config", down, "--online"], environment: env)
        #expect(downStatus == 1)
        #expect(
            downOut.contains("  NOT READY traffic: the traffic source does not answer")
                || downOut.contains("  NOT READY traffic: unavailable"), "\(downOut)")
    }

    /// GitLab's metrics store is Grafana Mimir: it answers only a request with the tenant header
    /// (`X-Scope-OrgID`) and basic auth, and holds every environment and service side by side, so
    /// the queries carry the configured selector. The password never shows.
    @Test func onlineReadsAMimirTenantWithBasicAuthAndASelector() async throws {
        let vault = try await VaultSimulator.start()
        let gitlab = try await ControlCommandTests.gitlab()
        let newest = Date().timeIntervalSince1970 - 3
        let expected = "Basic " + Data("failover-agent:mimir-secret-pw".utf8).base64EncodedString()
        let queries = Mutex<[String]>([])
        let mimir = try await HTTPServer.start { request in
            guard request.header("x-scope-orgid") == "runway" else { return .json(401, #"{"status":"error","error":"no org id"}"#) }
            guard request.header("authorization") == expected else { return .json(401, #"{"status":"error","error":"unauthorized"}"#) }
            let query = request.uri.removingPercentEncoding ?? request.uri
            queries.withLock { $0.append(query) }
            // Every environment and service side by side: only a query that selects gets the gateway's production series.
            guard query.contains(#"model_inferences_total{type="ai-gateway", env="gprd"}"#) else {
                return .json(200, #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
            }
            return Self.vector(
                query.contains("timestamp")
                    ? [([:], newest)]
                    : [(["model_engine": "litellm-chat", "model_name": "claude-sonnet-4-6", "error": "yes", "error_type": "other"], 7)],
                at: newest)
        }
        defer {
            Task {
                await vault.stop()
                await gitlab.stop()
                await mimir.stop()
            }
        }
        vault.put(ControlCommandTests.path, ["value": .string("{}")])
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true)])
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token, "MIMIR_PASSWORD": "mimir-secret-pw"]
        let traffic = """
                traffic:
                  url: \(mimir.baseURL)/prometheus
                  tenant: runway
                  basic_auth: {username: failover-agent, password_env: MIMIR_PASSWORD}
                  selector: 'type="ai-gateway", env="gprd"'

            """
        let file = try ControlCommandTests().config(vault: vault, gitlab: gitlab, extra: traffic)
        let (status, out, err) = try cli.run(["check", "--config", file, "--online"], environment: env)
        #expect(status == 0, "\(out)\(err)")
        #expect(out.contains("  ready traffic: \(mimir.baseURL)/prometheus: requests over the last 30 s: vertex 7 (7 failed)"), "\(out)")
        #expect(queries.withLock { $0.count == 2 && $0.allSatisfy { $0.hasPrefix("/prometheus/api/v1/query?query=") } })
        #expect(!out.contains("mimir-secret-pw") && !err.contains("mimir-secret-pw"), "the password never shows")
        #expect(!out.contains(Data("failover-agent:mimir-secret-pw".utf8).base64EncodedString()))

        let both = try ControlCommandTests().config(
            vault: vault, gitlab: gitlab, extra: traffic.replacingOccurrences(of: "      tenant: runway\n", with: "      token_env: X\n"))
        let (bothStatus, _, bothErr) = try cli.run(["check", "--config", both], environment: env)
        #expect(bothStatus == 2 && bothErr.contains("basic_auth") && bothErr.contains("not both"), "\(bothErr)")
    }
}
