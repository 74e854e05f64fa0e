import AgentConfig
import Lifecycle
import Selection
import Testing
import YAMLConfig

/// The plan step, request by request (pure): what it asks, in what order, and what it decides.
@Suite struct PlanMachineTests {
    let planner = ExampleTarget.planner()
    /// Production runs pipeline 10; its production trigger can be retried.
    let facts = DeployFacts(
        production: .init(sha: "aaaa", pipeline: 10),
        pipelines: [.init(pipeline: 10, sha: "aaaa", trigger: .init(job: 100, name: "Deploy [production]", status: "success"))])

    func setup(_ kind: ActionKind = .failover, _ provider: String = "vertex", apply: Bool = true, pinned: PinnedPlan? = nil)
        -> PlanMachine.Setup
    {
        .init(
            kind: kind, provider: provider, planner: planner, pinned: pinned, apply: apply, canProbe: true, verifies: true,
            target: "aigw", secret: "runway/env")
    }

    func snapshot(_ current: ModelOverride = ModelOverride(), owned: Ownership = Ownership(), version: Int = 3) -> SecretSnapshot {
        SecretSnapshot(version: version, deleted: false, current: current, recorded: owned, ownership: owned)
    }

    /// Answers every request: probes from `classes` (default `ok`), the rest as a healthy world.
    func run(
        _ machine: inout PlanMachine, _ read: SecretSnapshot, unready: [String] = [], classes: [String: String] = [:],
        replaced: String? = nil
    ) -> [PlanMachine.Request] {
        var asked: [PlanMachine.Request] = []
        for _ in 0..<20 {
            let request = machine.request
            asked.append(request)
            switch request {
            case .read: machine.answered(.read(read))
            case .readiness: machine.answered(.unready(unready))
            case .deployedCatalog: machine.answered(.deployedCatalog(nil))
            case .preflight(let models):
                machine.answered(.probed(Dictionary(uniqueKeysWithValues: models.map { ($0, classes[$0] ?? "ok") })))
            case .readReplaced: machine.answered(.replaced(value: replaced))
            case .letGo: machine.answered(.recorded)
            case .deployFacts: machine.answered(.deployFacts(facts))
            case .markDeployments: machine.answered(.marked)
            case .journal: machine.answered(.journaled)
            case .finish: return asked
            }
        }
        Issue.record("the plan step did not finish: \(asked)")
        return asked
    }

    @Test func aFailoverAsksInOrderAndChecksTheDeployThatCarriesIt() throws {
        var machine = PlanMachine(setup())
        let asked = run(&machine, snapshot())
        let checked = try #require(machine.checked)
        #expect(
            asked == [
                .read, .readiness, .deployedCatalog, .preflight(["claude_sonnet_4_6_bedrock"]), .deployFacts,
                .journal(checked), .finish(.checked(checked.checks)),
            ],
            "only the model brought in is probed")
        #expect(checked.checks.secretVersion == 3)
        #expect(checked.checks.carrier?.pipeline == 10, "the pipeline production runs carries the write")
        #expect(checked.next.providers == ["vertex"])
        #expect(checked.next.baseVersion == 3, "the version first replaced")
        guard case .override(let override) = checked.write else { throw Failure("a failover writes an override") }
        #expect(override["duo_chat"] == ["claude_sonnet_4_6_bedrock"])
        #expect(checked.intended == override.json)
        #expect(checked.expect["duo_chat"] == ["claude_sonnet_4_6_bedrock"])
        #expect(machine.findings.warnings.count == 1, "no deployed catalog is said")
    }

    @Test func aTypoIsRefusedBeforeAnythingIsAsked() {
        var machine = PlanMachine(setup(.failover, "vertexai"))
        let asked = run(&machine, snapshot())
        #expect(asked.count == 2)
        guard case .finish(.refused(let why)) = asked.last else { return #expect(Bool(false), "refused: \(asked)") }
        #expect(why.contains("unknown provider 'vertexai'"))
    }

    @Test func unreadyRefusesAWriteButNotAPlan() {
        var writing = PlanMachine(setup())
        let asked = run(&writing, snapshot(), unready: ["gitlab: token expired"])
        #expect(asked.last == .finish(.refused("not ready: gitlab: token expired; nothing written")))
        #expect(!asked.contains(.deployedCatalog), "nothing more is read")
        var planning = PlanMachine(setup(apply: false))
        #expect(run(&planning, snapshot(), unready: ["gitlab: token expired"]).last == .finish(.done))
        #expect(planning.checked == nil, "only planned")
    }

    @Test func aFailingReplacementIsAvoidedAndThePlanMadeAgain() throws {
        var machine = PlanMachine(setup())
        let asked = run(&machine, snapshot(), classes: ["claude_sonnet_4_6_bedrock": "server_error"])
        let probes = asked.compactMap { if case .preflight(let models) = $0 { models } else { nil } }
        #expect(probes.count == 2, "the new plan's replacement is probed too: \(probes)")
        #expect(probes.last == ["claude_sonnet_4_6"])
        #expect(machine.avoid.contains("bedrock/claude_sonnet_4_6_bedrock"))
        guard case .override(let override) = try #require(machine.checked).write else { throw Failure("an override") }
        #expect(override["duo_chat"] == ["claude_sonnet_4_6"])
    }

    @Test func everyReplacementFailingIsNoSafePlan() throws {
        // One feature, on Vertex AI, selectable on two other providers.
        var setup = setup()
        setup.planner = Planner(
            catalog: try CatalogLoader.models(
                YAMLFields.parse(
                    """
                    models:
                      - {gitlab_identifier: chat_vertex, model_class_provider: litellm, params: {custom_llm_provider: vertex_ai}}
                      - {gitlab_identifier: chat_bedrock, model_class_provider: litellm, params: {custom_llm_provider: bedrock}}
                      - {gitlab_identifier: chat, model_class_provider: anthropic}
                    """, file: "models.yml")),
            features: [
                Feature(setting: "duo_chat", defaultModels: ["chat_vertex"], selectableModels: ["chat_vertex", "chat_bedrock", "chat"])
            ])
        var machine = PlanMachine(setup)
        let asked = run(&machine, snapshot(), classes: ["chat_bedrock": "server_error", "chat": "timeout"])
        #expect(asked.filter { if case .preflight = $0 { true } else { false } } == [.preflight(["chat_bedrock"]), .preflight(["chat"])])
        guard case .finish(.refused(let why)) = asked.last else { return #expect(Bool(false), "refused: \(asked)") }
        #expect(why.hasPrefix("no safe plan: every replacement failed its pre-flight probe"), "\(why)")
        #expect(!asked.contains(.deployFacts))
    }

    @Test func anApprovedPlanIsWrittenOnlyAsApproved() throws {
        var planning = PlanMachine(setup(apply: false))
        _ = run(&planning, snapshot())
        let intended = try #require(planning.findings.intended)
        let approved = PinnedPlan(intended: intended, secretVersion: 3, sha: "aaaa")
        var same = PlanMachine(setup(pinned: approved))
        let asked = run(&same, snapshot())
        #expect(same.checked?.intended == intended)
        #expect(!asked.contains { if case .preflight = $0 { true } else { false } }, "pre-flighted at the approval")
        var moved = PlanMachine(setup(pinned: approved))
        guard case .finish(.refused(let why)) = run(&moved, snapshot(version: 4)).last else {
            return #expect(Bool(false), "a plan from another version is refused")
        }
        #expect(why.hasPrefix("the plan is no longer what was approved (planned from version 3"), "\(why)")
    }

    /// The ownership a failover of Vertex AI left, written as version `written`.
    func failedOver(written: Int) throws -> (ModelOverride, Ownership) {
        var failover = PlanMachine(setup())
        _ = run(&failover, snapshot())
        let checked = try #require(failover.checked)
        guard case .override(let override) = checked.write else { throw Failure("an override") }
        var owned = checked.next
        owned.writtenVersion = written
        return (override, owned)
    }

    @Test func aRestoreOfAnUntouchedSecretPutsBackTheVersionReplaced() throws {
        let (override, owned) = try failedOver(written: 4)
        var machine = PlanMachine(setup(.restore))
        let asked = run(&machine, snapshot(override, owned: owned, version: 4), replaced: #"{"duo_chat":["x"]}"#)
        #expect(asked.contains(.readReplaced(version: 3)))
        #expect(asked.contains(.markDeployments), "the next deployment carries it, verified then")
        #expect(!asked.contains(.deployFacts))
        let checked = try #require(machine.checked)
        #expect(checked.write == .putBack(version: 3))
        #expect(checked.intended == #"{"duo_chat":["x"]}"#)
        #expect(checked.next.providers.isEmpty)
        #expect(checked.checks.carrier == nil)
    }

    @Test func aRestoreAfterAPersonsEditPlansFromTheSecretAsItIs() throws {
        var (override, owned) = try failedOver(written: 4)
        override["embeddings_code"] = ["text_embedding_005_vertex"]
        var machine = PlanMachine(setup(.restore))
        let asked = run(&machine, snapshot(override, owned: owned, version: 5))
        #expect(!asked.contains { if case .readReplaced = $0 { true } else { false } }, "written since: not put back")
        guard case .override(let restored) = try #require(machine.checked).write else { throw Failure("an override") }
        #expect(restored["duo_chat"] == nil, "the agent's key is removed")
        #expect(restored["embeddings_code"] == ["text_embedding_005_vertex"], "the person's key stays")
    }

    @Test func keysAllTakenOverByPeopleAreLetGoAndNothingIsWritten() throws {
        var (override, owned) = try failedOver(written: 4)
        // A person set every key back to the catalog's defaults.
        for feature in planner.features where owned.keys[feature.setting] != nil { override[feature.setting] = feature.defaultModels }
        var machine = PlanMachine(setup(.restore))
        let asked = run(&machine, snapshot(override, owned: owned, version: 5))
        guard case .letGo(let next) = asked.dropLast().last else { return #expect(Bool(false), "let go: \(asked)") }
        #expect(next.keys.isEmpty && next.providers.isEmpty)
        guard case .finish(.nothingToDo(let why)) = asked.last else { return #expect(Bool(false), "nothing to do") }
        #expect(why.hasPrefix("every key the agent changed was changed since by a person"))
    }

    @Test func noDeployThatCanCarryItIsARefusal() {
        var machine = PlanMachine(setup())
        var asked: [PlanMachine.Request] = []
        while true {
            asked.append(machine.request)
            switch machine.request {
            case .read: machine.answered(.read(snapshot()))
            case .readiness: machine.answered(.unready([]))
            case .deployedCatalog: machine.answered(.deployedCatalog(nil))
            case .preflight(let models): machine.answered(.probed(Dictionary(uniqueKeysWithValues: models.map { ($0, "ok") })))
            case .deployFacts: machine.answered(.deployFacts(DeployFacts(production: .init(sha: "bbbb", pipeline: nil), pipelines: [])))
            default: break
            }
            if case .finish = machine.request { break }
        }
        guard case .finish(.refused(let why)) = machine.request else { return #expect(Bool(false), "refused") }
        #expect(why.contains("production runs bbbb"))
        #expect(machine.checked == nil)
    }

    @Test func anAnswerOutOfTurnEndsTheStepAsFailed() {
        var machine = PlanMachine(setup())
        #expect(
            machine.answered(.deployFacts(facts))
                == .finish(.failed("the plan step was answered \(PlanMachine.Answer.deployFacts(facts)) out of turn")))
        #expect(machine.answered(.read(snapshot())) == machine.request, "and stays ended")
        #expect(machine.checked == nil)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
