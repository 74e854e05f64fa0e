import ControlAPI
import ControlSimulators
import Foundation
import HTTP
import ProviderSimulators
import Testing

/// `failover-agent run` as deployed: the built binary against simulated providers, Vault and
/// GitLab on 127.0.0.1, killed with SIGKILL where it hurts most and started again.
@Suite(.serialized) struct RunEndToEndTests {
    static let path = ControlCommandTests.path
    static let original = ControlCommandTests.original

    /// One `run` process; its output goes to a file the test reads while it runs.
    final class RunningAgent {
        let process = Process()
        let output: String

        init(config: String, environment: [String: String], output: String) throws {
            self.output = output
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = URL(fileURLWithPath: ProbeCommandTests.binary)
            process.arguments = ["run", "--config", config]
            process.environment = environment
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        func signal(_ signal: Int32) -> Int32 {
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Waits (at most 30 s) until `condition` holds.
    func eventually(_ condition: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }

    func setUp(
        _ directory: String, vault: VaultSimulator, gitlab: GitLabSimulator, providers: [(String, ProviderSimulator)],
        replica: String = "agent", agent extra: String = "",
        target: String = ""
    ) throws -> String {
        try FileManager.default.createDirectory(atPath: directory + "/probes", withIntermediateDirectories: true)
        for (name, simulator) in providers {
            try """
            provider: \(name)
            url: \(simulator.baseURL)/v1/probe
            method: POST
            headers: {content-type: application/json}
            body: '{"max_tokens":1}'
            timeout: 2s
            """.write(toFile: "\(directory)/probes/\(name).yml", atomically: true, encoding: .utf8)
        }
        let config = try ControlCommandTests().config(vault: vault, gitlab: gitlab, extra: target)
        try
            (String(contentsOfFile: config, encoding: .utf8) + """

                policy:
                  steady_interval: 300ms
                  confirm_interval: 100ms
                  window: 3s
                  min_outage: 1s
                  min_healthy: 3s
                  max_healthy: 5s
                  reflap_window: 3s
                  blind_window: 1s
                  latency_floor: 1s
                  latency_ceiling: 2s
                  sandbox_speed: 30
                agent:
                  probes: \(directory)/probes
                  journal: \(directory)/\(replica).sqlite
                  listen: 127.0.0.1:0
                  api_token_env: AGENT_TOKEN
                \(extra)
                """).write(toFile: "\(directory)/\(replica).yml", atomically: true, encoding: .utf8)
        return "\(directory)/\(replica).yml"
    }

    /// Two `run` processes on one Lease, 2 s long: agent-a starts and leads, then agent-b follows.
    /// Each shares its API address (`address_env`).
    func twoReplicas(
        _ directory: String, vault: VaultSimulator, gitlab: GitLabSimulator, kubernetes: LeaseSimulator,
        providers: [(String, ProviderSimulator)]
    ) async throws -> (RunningAgent, RunningAgent) {
        let election = """
              leader_election:
                api_server: \(kubernetes.url)
                namespace: failover-agent
                token_env: KUBE_TOKEN
                address_env: POD_IP
                lease_duration: 2s
                renew_deadline: 1s
                retry_period: 200ms
            """
        var environment = [
            "VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token, "AGENT_TOKEN": "run-test-token", "POD_IP": "127.0.0.1",
        ]
        let configA = try setUp(directory, vault: vault, gitlab: gitlab, providers: providers, replica: "a", agent: election)
        let configB = try setUp(directory, vault: vault, gitlab: gitlab, providers: providers, replica: "b", agent: election)
        environment["POD_NAME"] = "agent-a"
        environment["KUBE_TOKEN"] = "sa-token-a"
        let a = try RunningAgent(config: configA, environment: environment, output: "\(directory)/a.log")
        #expect(try await eventually { kubernetes.holder("failover-agent", "failover-agent") == "agent-a" }, "\(a.log)")
        environment["POD_NAME"] = "agent-b"
        environment["KUBE_TOKEN"] = "sa-token-b"
        return (a, try RunningAgent(config: configB, environment: environment, output: "\(directory)/b.log"))
    }

    /// One target on Vault and GitLab (one deploy pipeline), Vertex AI failing, Bedrock and
    /// Anthropic healthy, and a `run` config with `target` added to the target.
    struct Stage {
        let directory: String
        let vault: VaultSimulator
        let gitlab: GitLabSimulator
        let vertex: ProviderSimulator
        let providers: [ProviderSimulator]
        let config: String
        var environment: [String: String] { ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token, "AGENT_TOKEN": "run-test-token"] }

        func stop() async {
            for simulator in providers { await simulator.stop() }
            await vault.stop()
            await gitlab.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func stage(_ name: String, target: String) async throws -> Stage {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID())").path
        let vault = try await VaultSimulator.start()
        let gitlab = try await ControlCommandTests.gitlab()
        vault.put(Self.path, ["value": .string(Self.original)])
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true)])
        let vertex = try await ProviderSimulator.start(.vertex, outcome: .answer(.http5xx))
        let bedrock = try await ProviderSimulator.start(.bedrock)
        let anthropic = try await ProviderSimulator.start(.anthropic)
        let config = try setUp(
            directory, vault: vault, gitlab: gitlab, providers: [("vertex", vertex), ("bedrock", bedrock), ("anthropic", anthropic)],
            target: target)
        return Stage(
            directory: directory, vault: vault, gitlab: gitlab, vertex: vertex, providers: [vertex, bedrock, anthropic], config: config)
    }

    @Test func killedAfterTheWriteAfterTheRetryAndAfterTheRestoreWriteItNeverRepeatsEither() async throws {
        // The fast restore (redeploy at once), so the restore has a job retry to be killed around too.
        let stage = try await stage("run", target: "    restore_redeploy: true")
        let (vault, gitlab, vertex, config, environment) = (stage.vault, stage.gitlab, stage.vertex, stage.config, stage.environment)
        let directory = stage.directory
        let retryAsked = { gitlab.requests.contains { $0.method == "POST" && $0.uri.hasSuffix("/retry") } }

        // 1. Vertex fails. The secret is written; the job retry never reaches GitLab: SIGKILL then.
        gitlab.hang("POST", "/retry", carriedOut: false)
        let first = try RunningAgent(config: config, environment: environment, output: "\(directory)/1.log")
        #expect(try await eventually { retryAsked() }, "\(first.log)")
        #expect(first.signal(SIGKILL) == SIGKILL)
        #expect(vault.current(Self.path)?.version == 2 && gitlab.retries.isEmpty)

        // 2. Restarted: the secret holds its write, so it retries the job, once, and still owns vertex.
        gitlab.hang("POST", nil, carriedOut: false)
        let second = try RunningAgent(config: config, environment: environment, output: "\(directory)/2.log")
        #expect(try await eventually { second.log.contains("recovered an interrupted action") }, "\(second.log)")
        #expect(second.log.contains("recovered an interrupted action on aigw-production: deployed: job success"))
        #expect(try await eventually { second.log.contains("its secret records vertex as failed over by this agent") }, "\(second.log)")
        #expect(gitlab.retries == [1] && vault.current(Self.path)?.version == 2, "one write, one retry")

        // 3. Vertex recovers. Vault carries out the restore write but never answers: SIGKILL then.
        vault.hang("POST", "/data/", carriedOut: true)
        vertex.set(.answer(.ok))
        #expect(try await eventually { vault.current(Self.path)?.version == 3 }, "\(second.log)")
        #expect(second.signal(SIGKILL) == SIGKILL)

        // 4. Restarted: only the redeploy is left. GitLab carries out the retry but never answers: SIGKILL.
        vault.hang("POST", nil, carriedOut: true)
        gitlab.hang("POST", "/retry", carriedOut: true)
        let third = try RunningAgent(config: config, environment: environment, output: "\(directory)/3.log")
        #expect(try await eventually { gitlab.retries.count == 2 }, "\(third.log)")
        #expect(third.signal(SIGKILL) == SIGKILL)

        // 5. Restarted: it follows the job it had retried instead of retrying again.
        gitlab.hang("POST", nil, carriedOut: true)
        let fourth = try RunningAgent(config: config, environment: environment, output: "\(directory)/4.log")
        #expect(try await eventually { fourth.log.contains("recovered an interrupted action") }, "\(fourth.log)")
        #expect(fourth.log.contains("job #2 was already retried as #3 before the restart: following it"), "\(fourth.log)")
        #expect(fourth.log.contains("recovered an interrupted action on aigw-production: deployed: job success"), "\(fourth.log)")
        #expect(vault.current(Self.path)?.version == 3, "exactly one write per action")
        #expect(vault.current(Self.path)?.data["value"]?.string == Self.original)
        #expect(vault.customMetadata(Self.path).isEmpty, "nothing is owned any more")
        #expect(gitlab.retries == [1, 2], "exactly one retry per action")
        #expect(try await eventually { gitlab.variables.isEmpty }, "the expedited variable is removed after the restore")

        // 6. SIGTERM stops it cleanly.
        #expect(fourth.signal(SIGTERM) == 0)
        #expect(fourth.log.contains("stopped"))
        for log in [first.log, second.log, third.log, fourth.log] { #expect(!log.contains(vault.token) && !log.contains(gitlab.token)) }
        await stage.stop()
    }

    /// GitLab opens the change request and its answer never comes: SIGKILL then. The restarted
    /// agent finds the issue by the mark its action left in it, and carries on in it: one change
    /// request, one write, one retry.
    @Test func killedWhileTheChangeRequestsAnswerWasLostTheRestartFindsItByItsMark() async throws {
        let stage = try await stage("lost-cr", target: "    change_request: {project: gl-infra/production}")
        let (vault, gitlab, config, environment, directory) = (stage.vault, stage.gitlab, stage.config, stage.environment, stage.directory)

        gitlab.hang("POST", "production/issues", carriedOut: true, times: 1)
        let first = try RunningAgent(config: config, environment: environment, output: "\(directory)/1.log")
        #expect(try await eventually { gitlab.issues(in: "gl-infra/production").count == 1 }, "\(first.log)")
        #expect(first.signal(SIGKILL) == SIGKILL)
        #expect(vault.current(Self.path)?.version == 1 && gitlab.retries.isEmpty, "killed before the write")

        let second = try RunningAgent(config: config, environment: environment, output: "\(directory)/2.log")
        #expect(try await eventually { second.log.contains("recovered an interrupted action") }, "\(second.log)")
        #expect(
            second.log.contains("carrying on in change request gl-infra/production#1, opened for this incident by an earlier attempt"),
            "\(second.log)")
        #expect(second.log.contains("recovered an interrupted action on aigw-production: deployed"), "\(second.log)")
        let issues = gitlab.issues(in: "gl-infra/production")
        #expect(issues.count == 1, "one change request: \(issues.map(\.title))")
        #expect(Set(issues[0].notes).count == issues[0].notes.count, "no duplicate note: \(issues[0].notes)")
        #expect(vault.current(Self.path)?.version == 2 && gitlab.retries == [1], "one write, one retry")
        #expect(second.signal(SIGTERM) == 0)
        await stage.stop()
    }

    @Test func twoReplicasOnALeaseOneActsAndTheOtherFinishesTheIncidentAfterTheLeaderIsKilled() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ha-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let vault = try await VaultSimulator.start()
        let gitlab = try await ControlCommandTests.gitlab()
        let kubernetes = try await LeaseSimulator.start(tokens: ["sa-token-a", "sa-token-b"])
        vault.put(Self.path, ["value": .string(Self.original)])
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true)])
        let vertex = try await ProviderSimulator.start(.vertex, outcome: .answer(.http5xx))
        let bedrock = try await ProviderSimulator.start(.bedrock)
        let anthropic = try await ProviderSimulator.start(.anthropic)
        let (a, b) = try await twoReplicas(
            directory, vault: vault, gitlab: gitlab, kubernetes: kubernetes,
            providers: [("vertex", vertex), ("bedrock", bedrock), ("anthropic", anthropic)])

        // Both probe and judge; only the leader acts. It writes the secret, and its job retry never
        // reaches GitLab.
        gitlab.hang("POST", "/retry", carriedOut: false)
        #expect(try await eventually { gitlab.requests.contains { $0.method == "POST" && $0.uri.hasSuffix("/retry") } }, "\(a.log)")
        #expect(
            try await eventually { b.log.contains("not the leader: the failover of vertex on aigw-production is the leader's to do") },
            "\(b.log)")
        #expect(vault.current(Self.path)?.version == 2 && gitlab.retries.isEmpty)

        // The leader dies between its write and its retry; the other takes the Lease within its
        // duration, finds the owed redeploy in the secret's metadata (its own journal is empty),
        // retries once, and finishes the incident.
        #expect(a.signal(SIGKILL) == SIGKILL)
        gitlab.hang("POST", nil, carriedOut: false)
        let killed = ContinuousClock.now
        #expect(try await eventually { kubernetes.holder("failover-agent", "failover-agent") == "agent-b" }, "\(b.log)")
        let takeover = ContinuousClock.now - killed
        print("lease taken over \(takeover) after the leader was killed")
        #expect(takeover < .seconds(3.5), "lease 2 s + one retry period + the first look")
        #expect(try await eventually { b.log.contains("failover of vertex on aigw-production: deployed: job success") }, "\(b.log)")
        #expect(b.log.contains("still owes its redeploy: finishing it"), "\(b.log)")
        #expect(
            gitlab.retries == [1] && vault.current(Self.path)?.version == 2, "one write and one retry for the failover, across the handover"
        )
        #expect(try await eventually { b.log.contains("its secret records vertex as failed over by this agent") }, "\(b.log)")
        vertex.set(.answer(.ok))
        #expect(try await eventually { vault.current(Self.path)?.version == 3 }, "\(b.log)")
        #expect(try await eventually { gitlab.variables.isEmpty })
        #expect(vault.current(Self.path)?.data["value"]?.string == Self.original)
        #expect(gitlab.retries == [1], "one retry for the failover, across the handover; the runbook's restore retries none")
        #expect(kubernetes.holders == ["agent-a", "agent-b"])

        // A graceful stop gives the Lease up at once.
        #expect(b.signal(SIGTERM) == 0)
        #expect(kubernetes.holder("failover-agent", "failover-agent") == nil, "\(b.log)")
        for simulator in [vertex, bedrock, anthropic] { await simulator.stop() }
        await vault.stop()
        await gitlab.stop()
        await kubernetes.stop()
    }

    /// The API port a `run` process logged, once it listens.
    func apiPort(_ agent: RunningAgent) async throws -> Int? {
        guard try await eventually({ agent.log.contains("API on 127.0.0.1:") }) else { return nil }
        return agent.log.components(separatedBy: "API on 127.0.0.1:").last.flatMap { Int($0.prefix { $0.isNumber }) }
    }

    /// One call to an agent's API: status and the `message` (POST) or the JSON body (GET).
    func call(_ client: HTTPClient, _ method: String, _ port: Int, _ path: String) async throws -> (status: Int, json: JSONValue?) {
        let request = HTTPRequest(
            method: method, url: "http://127.0.0.1:\(port)\(path)", headers: [HTTPHeader("Authorization", "Bearer run-test-token")],
            timeout: .seconds(10))
        let response = try await client.execute(request).result.get()
        return (response.status, JSONValue.parse(response.body))
    }

    /// A running agent with a drill target exports the drill's interval and last success (the
    /// agent's start, none being on record) on `/metrics`, and shows its drills on `/status`.
    @Test func aDrillTargetsMetricsAreOnTheRunningAgentsMetrics() async throws {
        let stage = try await stage("drill", target: #"    drill: {provider: bedrock, every: 168h, window: "Tue 09:00-12:00 UTC"}"#)
        let agent = try RunningAgent(config: stage.config, environment: stage.environment, output: "\(stage.directory)/1.log")
        let port = try #require(try await apiPort(agent), "\(agent.log)")
        let client = HTTPClient()
        let scrape = { () async -> String in
            let request = HTTPRequest(
                method: "GET", url: "http://127.0.0.1:\(port)/metrics", headers: [HTTPHeader("Authorization", "Bearer run-test-token")],
                timeout: .seconds(10))
            return (try? await client.execute(request).result.get().bodyText) ?? ""
        }
        #expect(
            try await eventually { await scrape().contains(#"failover_agent_drill_interval_seconds{target="aigw-production"} 604800.0"#) },
            "\(agent.log)")
        let metrics = await scrape()
        let line = metrics.split(separator: "\n").first {
            $0.hasPrefix(#"failover_agent_drill_last_success_timestamp_seconds{target="aigw-production"}"#)
        }
        #expect((line?.split(separator: " ").last.flatMap { Double($0) } ?? 0) > 1_700_000_000, "the agent's start: \(line ?? "none")")
        #expect(try await call(client, "GET", port, "/status").json?["drills"] != nil)
        #expect(agent.signal(SIGTERM) == 0)
        client.shutdown()
        await stage.stop()
    }

    @Test func aFollowerForwardsToTheLeaderAndANewLeaderKeepsThePause() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("forward-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let vault = try await VaultSimulator.start()
        let gitlab = try await ControlCommandTests.gitlab()
        let kubernetes = try await LeaseSimulator.start(tokens: ["sa-token-a", "sa-token-b"])
        vault.put(Self.path, ["value": .string(Self.original)])
        let providers = [("vertex", try await ProviderSimulator.start(.vertex)), ("bedrock", try await ProviderSimulator.start(.bedrock))]
        let (a, b) = try await twoReplicas(directory, vault: vault, gitlab: gitlab, kubernetes: kubernetes, providers: providers)
        let client = HTTPClient()
        defer { client.shutdown() }
        let portA = try #require(try await apiPort(a))
        let portB = try #require(try await apiPort(b))

        // Pausing the follower pauses the leader, and the follower shows the leader's pause.
        var paused: (status: Int, json: JSONValue?) = (0, nil)
        #expect(
            try await eventually {
                // until b has seen the Lease and the leader's address
                paused = (try? await call(client, "POST", portB, "/pause")) ?? (0, nil)
                return paused.status == 200
            }, "\(b.log)")
        #expect(
            paused.json?["message"]?.string?.hasSuffix("(answered by the leader at http://127.0.0.1:\(portA))") == true,
            "\(String(describing: paused.json))")
        #expect(try await call(client, "GET", portA, "/status").json?["paused"] == .bool(true))
        #expect(try await eventually { (try? await call(client, "GET", portB, "/status").json?["paused"]) == .bool(true) }, "\(b.log)")
        let approval = try await call(client, "POST", portB, "/proposals/0badc0/approve")
        #expect(
            approval.status == 409 && approval.json?["message"]?.string?.contains("answered by the leader") == true,
            "\(String(describing: approval.json))")

        // The leader dies paused: the new leader stays paused until someone resumes it.
        #expect(a.signal(SIGKILL) == SIGKILL)
        #expect(try await eventually { kubernetes.holder("failover-agent", "failover-agent") == "agent-b" }, "\(b.log)")
        #expect(try await eventually { (try? await call(client, "GET", portB, "/status").json?["leader"]) == .bool(true) }, "\(b.log)")
        #expect(try await call(client, "GET", portB, "/status").json?["paused"] == .bool(true), "\(b.log)")
        let resumed = try await call(client, "POST", portB, "/resume")
        #expect(resumed.status == 200 && resumed.json?["message"]?.string == "resumed", "the leader answers itself")
        #expect(try await call(client, "GET", portB, "/status").json?["paused"] == .bool(false))
        #expect(b.signal(SIGTERM) == 0)
        for (_, simulator) in providers { await simulator.stop() }
        await vault.stop()
        await gitlab.stop()
        await kubernetes.stop()
    }
}
