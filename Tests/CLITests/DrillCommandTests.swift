import ControlSimulators
import Foundation
import Testing

/// `failover-agent drill` against the simulators: a staging target's drill end to end, and a
/// target without `drill:` refused with nothing written.
@Suite(.serialized) struct DrillCommandTests {
    let control = ControlCommandTests()

    @Test func aDrillOfAStagingTargetRunsBothHalvesAndPutsEverythingBack() async throws {
        let (vault, gitlab) = try await control.controlPlane()
        let gateway = try await control.gateway()
        gateway.deploy(override: ControlCommandTests.original)
        gitlab.onDeploy { [vault] in gateway.deploy(override: vault.current(ControlCommandTests.path)?.data["value"]?.string) }
        // A person's own expedited setting: the drill must put it back exactly.
        gitlab.setVariable(
            .init(key: "RUNWAY_DEPLOYMENT_STRATEGY", value: "standard", protected: false, masked: false, environmentScope: "*"))
        let file = try control.config(
            vault: vault, gitlab: gitlab,
            extra: """
                    gateway: {url: \(gateway.url), verify_timeout: 5s, poll_interval: 20ms}
                    change_request: {project: gl-infra/staging}
                    drill: {provider: bedrock, every: 168h, window: "Tue 09:00-12:00 UTC"}
                """)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]

        let (dryStatus, dry, _) = try control.cli.run(["drill", "--config", file, "--target", "aigw-production"], environment: env)
        #expect(dryStatus == 0, "\(dry)")
        #expect(dry.contains("checks passed") && vault.current(ControlCommandTests.path)?.version == 1 && gitlab.retries.isEmpty, "\(dry)")

        let (status, out, _) = try control.cli.run(["drill", "--config", file, "--target", "aigw-production", "--yes"], environment: env)
        #expect(status == 0, "\(out)")
        #expect(out.contains("drill of bedrock on aigw-production succeeded"), "\(out)")
        #expect(gitlab.retries.count == 2, "a redeploy for each half: \(gitlab.retries)")
        #expect(vault.current(ControlCommandTests.path)?.data["value"]?.string == ControlCommandTests.original, "byte for byte")
        #expect(vault.customMetadata(ControlCommandTests.path).isEmpty)
        #expect(gitlab.variables["RUNWAY_DEPLOYMENT_STRATEGY"] == "standard", "the variable back as it was")
        let issues = gitlab.issues(in: "gl-infra/staging")
        #expect(issues.count == 1 && issues.first?.state == "closed", "one change request, opened and closed")
        #expect(issues.first?.title.contains("DRILL") == true && issues.first?.labels.contains("failover-agent::drill") == true)
        await vault.stop()
        await gitlab.stop()
        await gateway.stop()
    }

    @Test func aTargetWithoutDrillIsRefusedWithNothingWritten() async throws {
        let (vault, gitlab) = try await control.controlPlane()
        let file = try control.config(vault: vault, gitlab: gitlab)
        let env = ["VAULT_TOKEN": vault.token, "GITLAB_TOKEN": gitlab.token]
        let (status, out, err) = try control.cli.run(
            ["drill", "--config", file, "--target", "aigw-production", "--yes"], environment: env)
        #expect(status == 2, "\(out)\(err)")
        #expect(err.contains("target aigw-production has no `drill:`"), "\(err)")
        #expect(vault.current(ControlCommandTests.path)?.version == 1 && gitlab.retries.isEmpty && gitlab.variables.isEmpty)
        #expect(!vault.requests.contains { $0.method != "GET" } && !gitlab.requests.contains { $0.method != "GET" }, "nothing written")
        await vault.stop()
        await gitlab.stop()
    }

    @Test func aBadDrillWindowIsAConfigErrorNamingTheField() async throws {
        let (vault, gitlab) = try await control.controlPlane()
        let file = try control.config(vault: vault, gitlab: gitlab, extra: #"    drill: {provider: bedrock, window: "Tue 9-12"}"#)
        let (status, _, err) = try control.cli.run(["check", "--config", file], environment: [:])
        #expect(status == 2)
        #expect(err.contains("drill") && err.contains("window") && err.contains("UTC"), "\(err)")
        await vault.stop()
        await gitlab.stop()
    }
}
