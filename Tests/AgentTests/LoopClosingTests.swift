import Actions
import Agent
import AgentConfig
import AgentCore
import ControlSimulators
import Foundation
import GatewayClient
import GitLabClient
import HTTP
import Journal
import Selection
import Synchronization
import Telemetry
import Testing
import Timekeeping
import VaultClient

/// One target with Vault, GitLab (deploys and change requests) and the gateway simulated; every
/// deploy the GitLab simulator finishes starts the gateway with the secret's value then. The
/// executor waits on a virtual clock with production's intervals: a deploy polled every 10 s, the
/// gateway for up to 15 minutes, all in milliseconds of real time.
struct ClosedLoop {
    static let path = World.path
    static let original = World.original
    static let job = "🛫 [ai-gateway] Trigger runway deployment production"
    let vault: VaultSimulator
    let gitlab: GitLabSimulator
    let gateway: GatewaySimulator
    let client: HTTPClient
    let executor: TargetExecutor
    let journalPath: String
    let clock: VirtualClock

    static func start(
        restoreRedeploy: Bool = false, gatewayFollowsDeploys: Bool = true, changeRequestProject: String = "gl-infra/production",
        kubernetesLogin: Bool = false
    ) async throws -> ClosedLoop {
        let vault = try await VaultSimulator.start()
        let clock = VirtualClock()
        var auth = VaultAuth.token(.environment("V"))
        if kubernetesLogin {
            // Vault's Kubernetes auth issuing 60 s tokens (renewable up to 5 minutes) for the pod's service-account token.
            let jwtFile = FileManager.default.temporaryDirectory.appendingPathComponent("sa-token-\(UUID())").path
            try "eyJ.service-account".write(toFile: jwtFile, atomically: true, encoding: .utf8)
            vault.enableLogin(
                .init(role: "failover-agent", jwt: "eyJ.service-account", ttl: .seconds(60), maxTTL: .seconds(300), clock: clock))
            auth = .login(VaultLogin(method: .kubernetes, role: "failover-agent", jwtFile: jwtFile))
        }
        let gitlab = try await GitLabSimulator.start()
        vault.put(path, ["value": .string(original)])
        gitlab.addPipeline(id: 7, sha: "f00dbabe", jobs: [.init(id: 1, name: job, isBridge: true)])
        let catalog = try CatalogLoader.models(file: World.fixtures + "/models.yml")
        let planner = Planner(
            catalog: catalog, features: try CatalogLoader.features(file: World.fixtures + "/unit_primitives.yml", catalog: catalog))
        let gateway = try await GatewaySimulator.start(image: GatewayImage(planner), token: "gw-token")
        gateway.deploy(override: original)
        if gatewayFollowsDeploys { gitlab.onDeploy { [vault] in gateway.deploy(override: vault.current(path)?.data["value"]?.string) } }
        let target = Target(
            name: "aigw-production", mode: .perform, vault: VaultSettings(address: vault.address, path: path, auth: auth),
            gitlab: GitLabSettings(
                url: gitlab.url, project: "42", deployJob: .service("ai-gateway", environment: "production"), expedited: true,
                token: .environment("G")),
            changeRequest: ChangeRequestSettings(project: changeRequestProject, labels: ["change", "failover-agent"], confidential: true),
            gateway: GatewaySettings(url: gateway.url, token: .environment("GW")),
            restoreRedeploy: restoreRedeploy)
        let client = HTTPClient()
        let executor = try TargetExecutor(
            target: target, planner: planner, client: client, environment: ["V": vault.token, "G": gitlab.token, "GW": "gw-token"],
            logger: .silent, clock: clock)
        let journalPath = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path
        return ClosedLoop(
            vault: vault, gitlab: gitlab, gateway: gateway, client: client, executor: executor, journalPath: journalPath, clock: clock)
    }

    var secret: String? { vault.current(Self.path)?.data["value"]?.string }
    var changeRequests: [GitLabSimulator.SimIssue] { gitlab.issues(in: "gl-infra/production") }

    func stop() async {
        client.shutdown()
        await vault.stop()
        await gitlab.stop()
        await gateway.stop()
        try? FileManager.default.removeItem(atPath: journalPath)
    }
}

@Suite(.serialized) struct LoopClosingTests {
    @Test func aFailoverOpensOneChangeRequestAndIsVerifiedLive() async throws {
        let loop = try await ClosedLoop.start()
        let report = await loop.executor.failover(provider: "vertex", apply: true, approval: "proposal 5f2161")
        #expect(report.outcome == .deployed)
        #expect(report.verified == true)
        #expect(loop.gateway.defaults(of: "duo_chat") == ["claude_sonnet_4_6"], "the gateway serves the override")
        let issues = loop.changeRequests
        #expect(issues.count == 1)
        let issue = try #require(issues.first)
        #expect(report.changeRequest == issue.iid)
        #expect(
            issue.description.contains("f00dbabe") && issue.description.contains("duo_chat")
                && issue.description.contains("proposal 5f2161"))
        #expect(issue.description.contains("claude_sonnet_4_6_vertex"), "the models before")
        #expect(issue.labels == ["change", "failover-agent"] && issue.confidential && issue.state == "opened")
        #expect(issue.notes.count == 5 && issue.notes.last?.hasPrefix("Verified live") == true, "\(issue.notes)")
        #expect(issue.notes.contains { $0.hasPrefix("Deploy: pipeline #7 at f00dbabe is what production runs") }, "the decision and why")
        #expect(
            issue.notes.contains { $0.hasPrefix("The deploy runs in downstream pipeline #9001 (https://") }, "the deploy's own pipeline")
        #expect(
            !issue.description.contains(loop.vault.token) && !issue.notes.joined().contains(loop.gitlab.token),
            "no secret in the change request")
        #expect(try Ownership(metadata: loop.vault.customMetadata(ClosedLoop.path)).changeRequests == ["vertex": issue.iid])
        await loop.stop()
    }

    /// The runbook's restore: expedited off, the keys added removed, no redeploy, the change request closed.
    @Test func theDefaultRestoreRetriesNoJobAndClosesTheChangeRequest() async throws {
        let loop = try await ClosedLoop.start()
        _ = await loop.executor.failover(provider: "vertex", apply: true)
        #expect(loop.gitlab.retries.count == 1 && loop.gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "expedited")
        let restore = await loop.executor.restore(provider: "vertex", apply: true)
        #expect(restore.outcome == .written)
        #expect(loop.gitlab.retries.count == 1, "no job retried for the restore")
        #expect(loop.gitlab.variables.isEmpty, "no expedited variable left")
        #expect(loop.secret == ClosedLoop.original, "the secret back byte for byte")
        #expect(loop.changeRequests.map(\.state) == ["closed"])
        #expect(loop.changeRequests.first?.notes.last?.contains("next deployment picks it up") == true)
        let owned = try Ownership(metadata: loop.vault.customMetadata(ClosedLoop.path))
        #expect(owned.isEmpty && owned.pending == nil && owned.changeRequests.isEmpty, "nothing left in the metadata")
        #expect(loop.gateway.defaults(of: "duo_chat") == ["claude_sonnet_4_6"], "still the override until the next deployment")
        #expect(loop.gateway.deploys == 2, "the start and the failover's redeploy; the restore deployed nothing")
        loop.gitlab.deployRegularly(pipeline: 8, sha: "c0ffee11", jobName: ClosedLoop.job)
        #expect(loop.gateway.defaults(of: "duo_chat") == ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"])
        await loop.stop()
    }

    /// Ten minutes of 60 s Vault tokens (renewed, one renewal refused, logged in again as the max
    /// TTL nears), then a failover and its restore: not one request Vault refuses.
    @Test func aKubernetesAuthTokenRenewedForTenMinutesStillFailsOverAndRestores() async throws {
        let loop = try await ClosedLoop.start(kubernetesLogin: true)
        for minute in 0..<10 {
            if minute == 4 { loop.vault.refuseRenewals(1) }
            for _ in 0..<6 {
                _ = try await loop.executor.vault.read()
                loop.clock.advance(by: .seconds(10))
            }
        }
        #expect(loop.vault.logins >= 3 && loop.vault.renewals >= 6, "\(loop.vault.logins) logins, \(loop.vault.renewals) renewals")
        let failover = await loop.executor.failover(provider: "vertex", apply: true)
        #expect(failover.outcome == .deployed && failover.verified == true)
        let restore = await loop.executor.restore(provider: "vertex", apply: true)
        #expect(restore.outcome == .written)
        #expect(loop.secret == ClosedLoop.original)
        #expect(loop.vault.refusedRequests == 1, "only the renewal it was told to refuse")
        await loop.stop()
    }

    @Test func theNextDeploymentWatchEndsAtItsDeadline() async throws {
        let loop = try await ClosedLoop.start()
        _ = await loop.executor.failover(provider: "vertex", apply: true)
        let restore = await loop.executor.restore(provider: "vertex", apply: true)
        var awaited = try #require(restore.awaiting)
        var target = loop.executor.target
        target.gateway?.nextDeploymentTimeout = .seconds(3600)
        let clock = VirtualClock()
        awaited.deadline = .seconds(3600)  // a restore at this clock's start
        let watching = try TargetExecutor(
            target: target, planner: loop.executor.planner, client: loop.client,
            environment: ["V": loop.vault.token, "G": loop.gitlab.token, "GW": "gw-token"], logger: .silent, clock: clock)
        var checks = 1
        var check = await watching.checkNextDeployment(awaited)
        while case .notYet(let again) = check {
            #expect(again == 10, "checked again after poll_interval (10 s)")
            clock.advance(by: .seconds(again))
            checks += 1
            check = await watching.checkNextDeployment(awaited)
        }
        guard case .notVerified(let problem) = check else {
            Issue.record("\(check)")
            return
        }
        #expect(problem.hasPrefix("no deployment succeeded within 3600.0 seconds of the restore"), "\(problem)")
        #expect(checks == 361, "one read of GitLab every 10 s for the hour, and the one at its end")
        #expect(loop.changeRequests.first?.notes.last?.hasPrefix("no deployment succeeded within") == true)
        loop.gitlab.deployRegularly(pipeline: 8, sha: "c0ffee11", jobName: ClosedLoop.job)
        #expect(await watching.checkNextDeployment(awaited) == .verified, "a deployment, even late, is verified")
        #expect(loop.changeRequests.first?.notes.last?.hasPrefix("The next deployment serves the restore: verified live.") == true)
        await loop.stop()
    }

    @Test func aFastRestoreRedeploysVerifiesAndCloses() async throws {
        let loop = try await ClosedLoop.start(restoreRedeploy: true)
        _ = await loop.executor.failover(provider: "vertex", apply: true)
        let restore = await loop.executor.restore(provider: "vertex", apply: true)
        #expect(restore.outcome == .deployed && restore.verified == true)
        #expect(loop.gitlab.retries.count == 2 && loop.gitlab.variables.isEmpty && loop.secret == ClosedLoop.original)
        #expect(loop.gateway.defaults(of: "duo_chat") == ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"])
        #expect(loop.changeRequests.map(\.state) == ["closed"])
        await loop.stop()
    }

    @Test func aDeployTheGatewayNeverShowsEndsNotVerified() async throws {
        let loop = try await ClosedLoop.start(gatewayFollowsDeploys: false)
        let report = await loop.executor.failover(provider: "vertex", apply: true)
        guard case .notVerified(let why) = report.outcome else {
            Issue.record("\(report.outcome)")
            return
        }
        #expect(why.contains("duo_chat serves claude_sonnet_4_6_vertex, claude_sonnet_4_6"), "\(why)")
        #expect(report.outcome.metricLabel == "not_verified" && report.verified == false)
        #expect(
            loop.clock.elapsed >= .seconds(880) && loop.clock.elapsed <= .seconds(930),
            "the gateway polled for its 15 minutes: \(loop.clock.elapsed)")
        #expect(loop.changeRequests.first?.notes.last?.hasPrefix("Not verified") == true)
        await loop.stop()
    }

    @Test func aChangeRequestThatCannotBeOpenedIsReportedAndNeverBlocks() async throws {
        let loop = try await ClosedLoop.start()
        loop.gitlab.fail("POST", "/issues", status: 404, times: 1)
        let report = await loop.executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed && report.verified == true)
        #expect(report.changeRequestProblem?.contains("cannot open a change request in gl-infra/production") == true)
        #expect(report.changeRequest == nil && loop.changeRequests.isEmpty)
        await loop.stop()
    }

    /// kill -9 after each step of a failover and of a restore: the restart does the rest, and
    /// nothing twice: one change request, one secret write per action, one retry, one close.
    @Test(arguments: ["checked", "change-request", "secret-written", "job-retried", "deployed", "verified"])
    func killedAfterAnyFailoverStepTheRestartFinishesItOnce(step: String) async throws {
        let loop = try await ClosedLoop.start()
        let journal = try Journal(path: loop.journalPath, clock: WallClock())
        try await crash(loop.executor, .failover, journal: journal, after: step)
        let reports = await ActionRunner(journal: journal, executors: [loop.executor]).recover()
        #expect(reports.map(\.outcome) == [.deployed], "after \(step)")
        #expect(reports.first?.verified == true)
        #expect(loop.changeRequests.count == 1, "one change request after \(step)")
        #expect(loop.vault.current(ClosedLoop.path)?.version == 2, "one write after \(step)")
        #expect(loop.gitlab.retries.count == 1, "one retry after \(step)")
        #expect(loop.gateway.defaults(of: "duo_chat") == ["claude_sonnet_4_6"])
        #expect(try await journal.openIntents().isEmpty)
        await loop.stop()
    }

    @Test(arguments: ["checked", "secret-written", "change-request-closed"])
    func killedAfterAnyRestoreStepTheRestartFinishesItOnce(step: String) async throws {
        let loop = try await ClosedLoop.start()
        _ = await loop.executor.failover(provider: "vertex", apply: true)
        let journal = try Journal(path: loop.journalPath, clock: WallClock())
        try await crash(loop.executor, .restore, journal: journal, after: step)
        let reports = await ActionRunner(journal: journal, executors: [loop.executor]).recover()
        #expect(reports.map(\.outcome) == [.written], "after \(step)")
        #expect(loop.vault.current(ClosedLoop.path)?.version == 3 && loop.secret == ClosedLoop.original, "one restore write after \(step)")
        #expect(loop.gitlab.retries.count == 1 && loop.gitlab.variables.isEmpty)
        #expect(
            loop.changeRequests.map(\.state) == ["closed"] && loop.changeRequests.first?.notes.filter { $0.contains("Closing") }.count == 1)
        #expect(try await journal.openIntents().isEmpty)
        await loop.stop()
    }

    /// The leader loses the Lease right after its restore write: the next leader (empty journal)
    /// settles it from the secret's metadata without a redeploy, and closes the change request.
    @Test func aRestoreWrittenByALostLeaderIsSettledWithoutARedeploy() async throws {
        let loop = try await ClosedLoop.start()
        _ = await loop.executor.failover(provider: "vertex", apply: true)
        let sideEffects = Mutex(0)
        var losing = loop.executor
        losing.mayAct = {
            sideEffects.withLock {
                $0 += 1
                return $0 <= 2
            }
        }  // the write-ahead record and the secret write
        guard case .failed = await losing.restore(provider: "vertex", apply: true).outcome else {
            Issue.record("it should stop")
            return
        }
        #expect(loop.secret == ClosedLoop.original && loop.gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "expedited")
        #expect(try Ownership(metadata: loop.vault.customMetadata(ClosedLoop.path)).pending != nil, "left under way")
        let settled = try #require(await loop.executor.settlePending(healthy: ["vertex", "bedrock", "anthropic"]))
        #expect(settled.outcome == .written)
        #expect(loop.gitlab.retries.count == 1 && loop.gitlab.variables.isEmpty && loop.vault.current(ClosedLoop.path)?.version == 3)
        #expect(loop.changeRequests.map(\.state) == ["closed"])
        #expect(loop.vault.customMetadata(ClosedLoop.path).isEmpty, "nothing owned, nothing pending")
        await loop.stop()
    }

    /// The leader opens the change request and loses the Lease before its write: the next leader
    /// carries on in that change request instead of opening a second one.
    @Test func aChangeRequestOpenedBeforeALostLeaseIsCarriedOnNotOpenedTwice() async throws {
        let loop = try await ClosedLoop.start()
        let sideEffects = Mutex(0)
        var losing = loop.executor
        losing.mayAct = {
            sideEffects.withLock {
                $0 += 1
                return $0 <= 1
            }
        }  // records the change request, then loses the Lease
        guard case .failed = await losing.failover(provider: "vertex", apply: true).outcome else {
            Issue.record("it should stop")
            return
        }
        #expect(loop.changeRequests.count == 1 && loop.vault.current(ClosedLoop.path)?.version == 1)
        let report = await loop.executor.failover(provider: "vertex", apply: true)
        #expect(report.outcome == .deployed && report.verified == true)
        #expect(loop.changeRequests.count == 1, "one change request for the incident")
        #expect(report.changeRequest == loop.changeRequests.first?.iid)
        #expect(loop.changeRequests.first?.notes.first?.hasPrefix("Carried on by a new attempt") == true)
        await loop.stop()
    }

    /// Runs the action journaled, and dies (kill -9) right after journaling `step`: nothing after it happens.
    private func crash(_ executor: TargetExecutor, _ kind: ActionKind, journal: Journal, after step: String) async throws {
        let intent = try await journal.beginIntent(kind.rawValue, target: "aigw-production", provider: "vertex", detail: "")
        var dying = executor
        dying.onStep = { done in
            try await journal.step(intent, done.name, detail: done.detail)
            if done.name == step { throw Crash() }
        }
        _ = await dying.perform(kind, provider: "vertex", apply: true)
    }
}
