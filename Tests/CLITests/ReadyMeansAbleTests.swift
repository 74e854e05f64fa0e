import ControlAPI
import ControlSimulators
import Foundation
import Selection
import Testing

/// `check --online` says ready exactly when `failover --yes` then completes (written, retried
/// once, deployed, verified), against simulators that enforce what GitLab and Vault enforce;
/// where it says not ready, the failover writes nothing and names what to grant.
@Suite(.serialized) struct ReadyMeansAbleTests {
    let cli = ProbeCommandTests()
    static let changeRequests = "gitlab-com/gl-infra/production"

    /// One way the world can be set up, and whether a failover can go through in it.
    enum Setup: String, CaseIterable, Sendable {
        case everyPermission, noDownstreamAccess, projectAccessToken, protectedDownstreamBranch, noChangeRequestAccess,
            metadataWithoutPatch, vaultDataReadOnly, readAPIToken, latestVersionDeleted, deployedCatalogLacksAModel

        /// The check that fails, and a phrase of what it says to grant; nil: ready.
        var unready: (check: String, says: String)? {
            switch self {
            case .everyPermission, .metadataWithoutPatch, .latestVersionDeleted, .deployedCatalogLacksAModel: nil
            case .noDownstreamAccess: ("downstream", "make it a Developer there")
            case .projectAccessToken: ("downstream", "use a service account's or a person's token")
            case .protectedDownstreamBranch: ("downstream", "allow it to merge into main")
            case .noChangeRequestAccess: ("change_request", "grant Reporter")
            case .vaultDataReadOnly: ("vault", #"capabilities = ["read", "create", "update"]"#)
            case .readAPIToken: ("gitlab", "issue a token with scope api")
            }
        }

        func apply(vault: VaultSimulator, gitlab: GitLabSimulator, gateway: GatewaySimulator) {
            let path = ControlCommandTests.path
            switch self {
            case .everyPermission: break
            case .noDownstreamAccess: gitlab.changeAccess { $0.memberships[GitLabSimulator.deploymentsProject] = 0 }
            case .projectAccessToken: gitlab.changeAccess { $0.bot = true }
            case .protectedDownstreamBranch:
                gitlab.changeAccess { $0.protectedBranches[GitLabSimulator.deploymentsProject + "|main"] = 40 }
            case .noChangeRequestAccess: gitlab.changeAccess { $0.memberships[ReadyMeansAbleTests.changeRequests] = 0 }
            case .metadataWithoutPatch: vault.setCapabilities("runway/metadata/\(path)", ["read", "create", "update"])
            case .vaultDataReadOnly: vault.setCapabilities("runway/data/\(path)", ["read"])
            case .readAPIToken: gitlab.changeAccess { $0.scopes = ["read_api"] }
            case .latestVersionDeleted:
                vault.put(path, ["value": .string(#"{"duo_chat": ["claude_sonnet_4_5_20250929"]}"#)])
                vault.deleteLatest(path)
            case .deployedCatalogLacksAModel: gateway.setImage(gateway.image.without("claude_sonnet_4_6_bedrock"))
            }
        }
    }

    @Test(arguments: Setup.allCases) func checkSaysReadyExactlyWhenTheFailoverCompletes(_ setup: Setup) async throws {
        let (vault, gitlab) = try await ControlCommandTests().controlPlane()
        let gateway = try await ControlCommandTests().gateway()
        gateway.deploy(override: ControlCommandTests.original)
        // A first deploy has run: the trigger job shows its downstream project.
        gitlab.deployRegularly(pipeline: 8, sha: "f00dbabf", jobName: "🛫 [ai-gateway] Trigger runway deployment production")
        gitlab.onDeploy { [vault] in gateway.deploy(override: vault.current(ControlCommandTests.path)?.data["value"]?.string) }
        setup.apply(vault: vault, gitlab: gitlab, gateway: gateway)
        let before = vault.current(ControlCommandTests.path)!
        let file = try ControlCommandTests().config(
            vault: vault, gitlab: gitlab,
            extra: """
                    change_request: {project: \(Self.changeRequests)}
                    gateway: {url: \(gateway.url), verify_timeout: 5s, poll_interval: 20ms}
                """)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]

        let (checkStatus, check, _) = try cli.run(["check", "--config", file, "--online"], environment: env)
        let (status, out, _) = try cli.run(["failover", "--config", file, "--provider", "vertex", "--yes"], environment: env)
        let after = vault.current(ControlCommandTests.path)!
        if let (name, says) = setup.unready {
            #expect(checkStatus == 1 && check.contains("  NOT READY \(name): ") && check.contains(says), "\(check)")
            #expect(status == 1 && out.contains("refused: not ready: \(name): ") && out.contains(says), "\(out)")
            #expect(out.contains("nothing written"))
            #expect(after.version == before.version && after.data == before.data, "the secret untouched")
            #expect(gitlab.retries.isEmpty && gitlab.variables.isEmpty, "no retry, no variable")
            #expect(vault.customMetadata(ControlCommandTests.path).isEmpty, "no ownership record")
            #expect(gitlab.issues(in: Self.changeRequests).isEmpty, "no change request")
        } else {
            #expect(checkStatus == 0 && !check.contains("NOT READY"), "\(check)")
            #expect(status == 0 && out.contains("failover done; deploy job success"), "\(out)")
            #expect(out.contains("verified live: the gateway serves the new defaults"), "\(out)")
            #expect(after.version == before.version + 1 && gitlab.retries.count == 1, "written once, retried once")
        }
        // The written override only ever names models the deployed gateway lists as selectable for that feature.
        let image = gateway.image
        let override = JSONValue.parse(Array((after.data["value"]?.string ?? "{}").utf8))?.object ?? [:]
        for (feature, models) in override {
            for model in models.array?.compactMap(\.string) ?? [] {
                let selectable = image.selectable[feature] ?? []
                #expect(image.models.contains(model) && (selectable.isEmpty || selectable.contains(model)), "\(feature): \(model)")
            }
        }
        if setup == .latestVersionDeleted {
            #expect(out.contains("had been deleted: read as no override"), "\(out)")
            #expect(override["duo_chat"]?.array?.compactMap(\.string) == ["claude_sonnet_4_6_bedrock"], "planned from no override")
        }
        if setup == .deployedCatalogLacksAModel {
            #expect(override["code_generations"]?.array?.compactMap(\.string) == ["claude_sonnet_4_6"], "not the model the image lacks")
        }
        await vault.stop()
        await gitlab.stop()
        await gateway.stop()
    }

    /// A target without a gateway URL reads the deployed image's catalog files at the SHA
    /// production runs (the repository files API): a model that image does not offer is never chosen.
    @Test func withoutAGatewayThePlanIsCheckedAgainstTheCatalogFilesProductionRuns() async throws {
        let (vault, gitlab) = try await ControlCommandTests().controlPlane()
        let models = try String(contentsOfFile: ControlCommandTests.fixtures + "/models.yml", encoding: .utf8)
        let primitives = try String(contentsOfFile: ControlCommandTests.fixtures + "/unit_primitives.yml", encoding: .utf8)
        // The deployed image's unit_primitives.yml no longer offers the Bedrock Sonnet anywhere.
        let older = primitives.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0 != "      - claude_sonnet_4_6_bedrock" }.joined(separator: "\n")
        gitlab.setFile("ai_gateway/model_selection/models.yml", ref: "f00dbabe", models)
        gitlab.setFile("ai_gateway/model_selection/unit_primitives.yml", ref: "f00dbabe", older)
        let file = try ControlCommandTests().config(vault: vault, gitlab: gitlab)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]
        let (status, out, _) = try cli.run(["failover", "--config", file, "--provider", "vertex", "--yes"], environment: env)
        #expect(status == 0, "\(out)")
        let written = JSONValue.parse(Array((vault.current(ControlCommandTests.path)?.data["value"]?.string ?? "").utf8))
        #expect(written?["code_generations"]?.array?.compactMap(\.string) == ["claude_sonnet_4_6"], "\(String(describing: written))")
        #expect(!(written.map { String(decoding: $0.bytes, as: UTF8.self) } ?? "").contains("claude_sonnet_4_6_bedrock"))
        #expect(gitlab.requests.contains { $0.uri.contains("/repository/files/") && $0.uri.contains("ref=f00dbabe") })

        // Files that cannot be read at that SHA: nothing is written.
        gitlab.setFile("ai_gateway/model_selection/models.yml", ref: "f00dbabe", "models: [")
        let (restoreStatus, _, _) = try cli.run(["restore", "--config", file, "--provider", "vertex", "--yes"], environment: env)
        #expect(restoreStatus == 0, "a restore puts back what was there: it needs no deployed catalog")
        let version = vault.current(ControlCommandTests.path)?.version
        let (again, againOut, _) = try cli.run(["failover", "--config", file, "--provider", "vertex", "--yes"], environment: env)
        #expect(again == 1 && againOut.contains("cannot read the deployed catalog"), "\(againOut)")
        #expect(vault.current(ControlCommandTests.path)?.version == version, "nothing written")
        await vault.stop()
        await gitlab.stop()
    }
}
