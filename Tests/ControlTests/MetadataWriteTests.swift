import ControlAPI
import ControlSimulators
import HTTP
import Testing
import Timekeeping
import VaultClient

/// `custom_metadata` has no check-and-set: the ownership record is written so that another
/// writer's entries (a person's, another target's of the same secret) are never lost.
@Suite struct MetadataWriteTests {
    static let path = "env/production/service/ai-gateway/AIGW_MODEL_SELECTION__DEFAULT_MODELS"

    func writers(_ vault: VaultSimulator, client: HTTPClient) throws -> (VaultKV, VaultKV) {
        let settings = VaultSettings(address: vault.address, path: Self.path, token: .environment("V"))
        let env = ["V": vault.token]
        return (
            try VaultKV(settings: settings, client: client, environment: env, retries: 1, clock: WallClock()),
            try VaultKV(settings: settings, client: client, environment: env, retries: 1, clock: WallClock())
        )
    }

    @Test func twoWritersOfOneSecretKeepBothSetsOfKeys() async throws {
        let vault = try await VaultSimulator.start()
        let client = HTTPClient()
        vault.put(Self.path, ["value": .string("{}")])
        let (agent, other) = try writers(vault, client: client)
        try await agent.replaceCustomMetadata(prefix: "failover-agent/", with: ["failover-agent/state": "a1", "failover-agent/key/x": "k"])
        try await other.replaceCustomMetadata(prefix: "team/", with: ["team/owner": "ai-gateway"])
        // The other writer changes its entries while the agent's write is in flight.
        vault.editMetadataBeforeNextWrite {
            $0["team/owner"] = "duo-workflow"
            $0["team/oncall"] = "ai-framework"
        }
        try await agent.replaceCustomMetadata(prefix: "failover-agent/", with: ["failover-agent/state": "a2"])
        #expect(
            vault.customMetadata(Self.path) == [
                "failover-agent/state": "a2", "team/owner": "duo-workflow", "team/oncall": "ai-framework",
            ], "the agent's stale entry is removed, the other writer's are all kept")
        #expect(vault.requests.contains { $0.method == "PATCH" })
        client.shutdown()
        await vault.stop()
    }

    @Test func aVaultWithoutPatchGetsTheWholeMapWithEveryoneElsesEntries() async throws {
        let vault = try await VaultSimulator.start()
        let client = HTTPClient()
        vault.put(Self.path, ["value": .string("{}")])
        vault.setMetadataPatch(false)
        let (agent, other) = try writers(vault, client: client)
        try await other.replaceCustomMetadata(prefix: "team/", with: ["team/owner": "ai-gateway"])
        try await agent.replaceCustomMetadata(prefix: "failover-agent/", with: ["failover-agent/state": "a1"])
        #expect(vault.customMetadata(Self.path) == ["failover-agent/state": "a1", "team/owner": "ai-gateway"])
        #expect(vault.requests.contains { $0.method == "PATCH" } && vault.requests.contains { $0.method == "POST" })
        client.shutdown()
        await vault.stop()
    }
}
