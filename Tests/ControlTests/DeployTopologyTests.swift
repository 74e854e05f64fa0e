import Actions
import ControlAPI
import ControlSimulators
import GatewayClient
import GitLabClient
import HTTP
import Logging
import Selection
import Synchronization
import Testing
import Timekeeping

/// Runway in production: one pipeline triggers several services, the deploy runs in the trigger
/// job's downstream pipeline, the expedited variable is the project's, and the gateway is a fleet.
@Suite(.serialized) struct DeployTopologyTests {
    static let services = ["ai-gateway", "duo-workflow-svc", "ai-gateway-custom"]

    func redeployer(_ gitlab: GitLabSimulator, _ matcher: DeployJobMatcher, client: HTTPClient, holder: String = "aigw-production")
        throws -> Redeployer
    {
        let settings = GitLabSettings(
            url: gitlab.url, project: "42", deployJob: matcher, expedited: true, token: .environment("G"),
            pollInterval: .milliseconds(20))
        return Redeployer(
            gitlab: try GitLab(settings: settings, client: client, environment: ["G": gitlab.token], retries: 1, clock: WallClock()),
            holder: holder, clock: WallClock())
    }

    func threeServices(_ gitlab: GitLabSimulator, pipeline: Int = 7) {
        gitlab.addPipeline(
            id: pipeline, sha: "f00dbabe",
            jobs: [.init(id: 1, name: "build")]
                + Self.services.enumerated().map { index, service in
                    .init(id: 10 + index, name: "🛫 [\(service)] Trigger runway deployment production", isBridge: true)
                })
    }

    @Test func eachServiceRetriesExactlyItsOwnTriggerJob() async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        threeServices(gitlab)
        for (index, service) in Self.services.enumerated() {
            let job = try #require(
                try await redeployer(gitlab, .service(service, environment: "production"), client: client).preflight().job)
            #expect(job.id == 10 + index && job.name == "🛫 [\(service)] Trigger runway deployment production")
        }
        let exact = try await redeployer(gitlab, "🛫 [duo-workflow-svc] Trigger runway deployment production", client: client)
            .preflight().job
        #expect(exact?.id == 11)
        client.shutdown()
        await gitlab.stop()
    }

    @Test func anAmbiguousMatcherIsRefusedNamingEveryMatch() async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        threeServices(gitlab)
        let matcher = try DeployJobMatcher.regex("^.*Trigger runway deployment production$").get()
        do {
            _ = try await redeployer(gitlab, matcher, client: client).preflight()
            Issue.record("an ambiguous matcher was accepted")
        } catch let error as ControlError {
            guard case .refused(let why) = error else { throw error }
            #expect(why.contains("matches 3 jobs in pipeline #7"), "\(why)")
            for (index, service) in Self.services.enumerated() {
                #expect(why.contains("#\(10 + index) '🛫 [\(service)] Trigger runway deployment production'"), "\(why)")
            }
        }
        #expect(gitlab.retries.isEmpty)
        client.shutdown()
        await gitlab.stop()
    }

    @Test func aJobRetriedBeforeCountsOnceAsItsNewestTry() async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        gitlab.addPipeline(
            id: 7, sha: "f00dbabe",
            jobs: [
                .init(id: 3, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true),
                .init(id: 9, name: "🛫 [ai-gateway] Trigger runway deployment production", isBridge: true),
            ])
        let job = try await redeployer(gitlab, .service("ai-gateway", environment: "production"), client: client).preflight().job
        #expect(job?.id == 9)
        client.shutdown()
        await gitlab.stop()
    }

    /// Follows one retry; returns the job, the downstream pipelines reported and the trigger-job polls made.
    func follow(_ gitlab: GitLabSimulator, client: HTTPClient) async throws -> (Job, [DownstreamPipeline], Int) {
        let redeployer = try redeployer(gitlab, .service("ai-gateway", environment: "production"), client: client)
        let planned = try await redeployer.preflight()
        let (pipeline, job) = (planned.pipeline, try #require(planned.job))
        let seen = Mutex<[DownstreamPipeline]>([])
        let before = gitlab.requests.count
        let ended = try await redeployer.redeploy(
            pipeline: pipeline, job: job, logger: Logger(label: "test"), downstream: { found in seen.withLock { $0.append(found) } })
        let polls = gitlab.requests.dropFirst(before).filter { $0.uri.contains("/trigger_jobs") }.count
        return (ended, seen.withLock { $0 }, polls)
    }

    @Test(arguments: [false, true])
    func aFailedDownstreamPipelineIsAFailedDeployAtOnce(depend: Bool) async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        threeServices(gitlab)
        gitlab.setDependStrategy(depend)
        gitlab.setDeployOutcome("failed")
        let (job, seen, polls) = try await follow(gitlab, client: client)
        guard case .failed(let why) = job.progress else {
            Issue.record("\(job.progress)")
            return
        }
        #expect(why.contains("downstream deploy pipeline #9001 (https://gitlab.example.com/runway/deployments/-/pipelines/9001)"))
        #expect(seen.map(\.id) == [9001], "the downstream pipeline is reported once")
        // Two looks start the trigger job, two more run its downstream pipeline to its end; the
        // look that sees the failure is the last, even while a depending trigger job still runs.
        #expect(polls == 4, "polls after the downstream failed: \(polls - 4)")
        if depend { #expect(job.status == "running", "the trigger job has not caught up yet; the deploy is failed all the same") }
        client.shutdown()
        await gitlab.stop()
    }

    @Test func aSucceedingDownstreamIsFollowedToItsEndNotToTheTriggersSuccess() async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        threeServices(gitlab)
        gitlab.setPollsToFinish(3)
        let deployed = Mutex(false)
        gitlab.onDeploy { deployed.withLock { $0 = true } }
        let (job, seen, polls) = try await follow(gitlab, client: client)
        #expect(job.progress == .succeeded && job.status == "success")
        #expect(deployed.withLock { $0 }, "followed until the downstream deploy itself succeeded")
        #expect(seen.first?.id == 9001 && gitlab.downstreamStatus(9001) == "success")
        #expect(polls == 6, "the trigger job succeeded after 3 looks; its deploy took 3 more")
        client.shutdown()
        await gitlab.stop()
    }

    @Test func anOlderGitLabWithoutTriggerJobsIsReadThroughBridges() async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        threeServices(gitlab)
        gitlab.setTriggerJobsRoute(false)
        let redeployer = try redeployer(gitlab, .service("ai-gateway", environment: "production"), client: client)
        let planned = try await redeployer.preflight()
        let (pipeline, job) = (planned.pipeline, try #require(planned.job))
        #expect(job.id == 10)
        let ended = try await redeployer.redeploy(pipeline: pipeline, job: job, logger: Logger(label: "test"))
        #expect(ended.progress == .succeeded)
        #expect(gitlab.requests.contains { $0.uri.contains("/bridges") })
        client.shutdown()
        await gitlab.stop()
    }

    @Test func theNextDeploymentIsOneWhoseDownstreamSucceeded() async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        threeServices(gitlab)
        let redeployer = try redeployer(gitlab, .service("ai-gateway", environment: "production"), client: client)
        let marker = try await redeployer.gitlab.deployMarker()
        gitlab.setPollsToFinish(1_000)
        gitlab.deployRegularly(
            pipeline: 8, sha: "0ddba11", jobName: "🛫 [ai-gateway] Trigger runway deployment production", downstream: "running")
        #expect(try await !redeployer.gitlab.deployedSince(marker), "a downstream pipeline that merely exists is not a deployment")
        gitlab.setDownstreamStatus(9001, "failed")
        #expect(try await !redeployer.gitlab.deployedSince(marker), "nor is one that failed")
        gitlab.deployRegularly(pipeline: 9, sha: "0ddba12", jobName: "🛫 [ai-gateway] Trigger runway deployment production")
        #expect(try await redeployer.gitlab.deployedSince(marker))
        client.shutdown()
        await gitlab.stop()
    }

    @Test func theExpeditedVariableIsProtectedAndPutBackExactly() async throws {
        let gitlab = try await GitLabSimulator.start()
        let client = HTTPClient()
        let logger = Logger(label: "test")
        let aigw = try redeployer(gitlab, .service("ai-gateway", environment: "production"), client: client, holder: "aigw-production")
        let dws = try redeployer(gitlab, .service("duo-workflow-svc", environment: "production"), client: client, holder: "dws-production")
        // None before: created as the runbook does, held by both services, removed by the last.
        try await aigw.setExpedited(logger: logger)
        let created = try #require(gitlab.variableDetails.first)
        #expect(created.value == "expedited" && created.protected && !created.masked && created.environmentScope == "*")
        try await dws.setExpedited(logger: logger)
        #expect(ExpeditedMark(description: gitlab.variableDetails.first?.description)?.holders == ["aigw-production", "dws-production"])
        try await aigw.clearExpedited(logger: logger)
        #expect(gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "expedited", "DWS still needs it")
        try await dws.clearExpedited(logger: logger)
        #expect(gitlab.variableDetails.isEmpty)

        // A person's `expedited`: left, before and after.
        let persons = CIVariable(
            key: "RUNWAY_DEPLOYMENT_STRATEGY", value: "expedited", protected: true, masked: false, environmentScope: "*",
            description: "incident 123")
        gitlab.setVariable(persons)
        try await aigw.setExpedited(logger: logger)
        try await aigw.clearExpedited(logger: logger)
        #expect(gitlab.variableDetails == [persons])

        // Another value: changed for the failover, then put back with its description.
        let legacy = CIVariable(
            key: "RUNWAY_DEPLOYMENT_STRATEGY", value: "legacy", protected: false, masked: false, environmentScope: "*",
            description: "pinned by release managers")
        gitlab.setVariable(legacy)
        try await aigw.setExpedited(logger: logger)
        #expect(gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "expedited")
        try await aigw.clearExpedited(logger: logger)
        #expect(gitlab.variableDetails == [legacy])
        client.shutdown()
        await gitlab.stop()
    }

    @Test func verificationNeedsEveryURLOnAgreeingPollsInARow() {
        var tally = VerifyTally(urls: ["https://a", "https://b", "https://c"], agreeing: 3)
        let stale = ["duo_chat serves claude_sonnet_4_6_vertex (planned claude_sonnet_4_6_bedrock)"]
        for _ in 0..<3 {
            tally.record(0, problems: [])
            tally.record(1, problems: [])
            tally.record(2, problems: stale)
        }
        #expect(tally.isVerified(0) && tally.isVerified(1) && !tally.allVerified)
        #expect(
            tally.behind == "1 of 3 gateway URL(s) still do not serve the plan (2 do): https://c: " + stale[0], "\(tally.behind)")
        // A canary answers both ways: a stale answer starts the count again.
        tally.record(2, problems: [])
        tally.record(2, problems: [])
        tally.record(2, problems: stale)
        tally.record(2, problems: [])
        #expect(!tally.allVerified && tally.behind.hasSuffix("https://c served it on 1 of 3 polls in a row"), "\(tally.behind)")
        tally.record(2, problems: [])
        tally.record(2, problems: [])
        #expect(tally.allVerified)
    }

    @Test func verificationAsksEveryGatewayURL() async throws {
        let image = GatewayImage(
            models: ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6_bedrock"], defaults: ["duo_chat": ["claude_sonnet_4_6_vertex"]])
        var fleet: [GatewaySimulator] = []
        for _ in 0..<3 { fleet.append(try await GatewaySimulator.start(image: image)) }
        let client = HTTPClient()
        let settings = GatewaySettings(
            urls: fleet.map(\.url), verifyTimeout: .milliseconds(500), pollInterval: .milliseconds(50), agreeingPolls: 2)
        let gateway = try Gateway(settings: settings, client: client, environment: [:], clock: WallClock())
        let override = #"{"duo_chat": ["claude_sonnet_4_6_bedrock"]}"#
        let expect = ["duo_chat": ["claude_sonnet_4_6_bedrock"]]
        fleet[0].deploy(override: override)
        fleet[1].deploy(override: override)
        let stale = await gateway.verify(expect)
        #expect(stale?.contains("\(fleet[2].url): duo_chat serves claude_sonnet_4_6_vertex") == true, "\(stale ?? "verified")")
        fleet[2].deploy(override: override)
        fleet[2].setCanary(oneIn: 1_000)  // the rollout has not reached this region
        #expect(await gateway.verify(expect)?.contains(fleet[2].url) == true)
        fleet[2].setCanary(oneIn: nil)
        var patient = settings
        patient.verifyTimeout = .seconds(30)  // returns as soon as every URL agrees
        #expect(await (try Gateway(settings: patient, client: client, environment: [:], clock: WallClock())).verify(expect) == nil)
        #expect(fleet.allSatisfy { $0.requestCount >= 2 }, "every URL was asked, twice at least")
        client.shutdown()
        for gateway in fleet { await gateway.stop() }
    }
}
