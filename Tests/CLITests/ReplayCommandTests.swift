import Foundation
import Testing

/// `failover-agent replay` as a user runs it: exit 0 when expectations hold, 1 when not, 2 on a malformed file.
@Suite struct ReplayCommandTests {
    let cli = ProbeCommandTests()
    static let outage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../scenarios/vertex-outage.yml"
    ).standardized.path

    func write(_ text: String, name: String = "s.yml") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID())-\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theVertexOutageReplaysToAPass() throws {
        let (status, out, _) = try cli.run(["replay", Self.outage])
        #expect(status == 0)
        let lines = out.split(separator: "\n")
        #expect(
            lines.contains {
                $0.contains(
                    #""event":"failover","provider":"vertex","mode":"propose","targets":["aigw-production"],"#
                        + #""override":{"duo_chat":["claude_sonnet_4_6_bedrock"]"#
                )
            })
        #expect(lines.last?.contains(#""expect":"pass""#) == true)
        let (_, verbose, _) = try cli.run(["replay", Self.outage, "--verbose"])
        #expect(verbose.split(separator: "\n").filter { $0.contains(#""event":"probe""#) }.count > 600)
    }

    @Test func unmetExpectationsExit1() throws {
        let original = try String(contentsOfFile: Self.outage, encoding: .utf8)
        let file = try write(original.replacingOccurrences(of: "not_before: 10m, by: 11m", with: "not_before: 12m, by: 13m"))
        let (status, out, _) = try cli.run(["replay", file])
        #expect(status == 1)
        #expect(out.contains(#""expect":"fail""#))
        #expect(out.contains("false failover of vertex at 630s"))
    }

    @Test func aMalformedScenarioOrConfigExits2NamingTheField() throws {
        let scenario = try write("name: x\nduration: 10m\nproviders:\n  vertex:\n    - at: 0s\n      failure: {rate: 1.5}\n")
        let (status, out, err) = try cli.run(["replay", scenario])
        #expect(status == 2)
        #expect(out.isEmpty)
        #expect(err.contains("\(scenario):6: providers.vertex[0].failure.rate: must be between 0 and 1"))
        let config = try write("policy:\n  min_outage: 0s\n", name: "agent.yml")
        let (configStatus, _, configErr) = try cli.run(["replay", Self.outage, "--config", config])
        #expect(configStatus == 2)
        #expect(configErr.contains("policy.min_outage: must be more than 0"))
    }

    @Test func aConfigChangesThePolicy() throws {
        let config = try write("policy:\n  min_outage: 2m\n", name: "agent.yml")
        let (status, out, _) = try cli.run(["replay", Self.outage, "--config", config])
        #expect(status == 1, "a 2 minute min_outage decides after the expected minute")
        #expect(out.contains(#""event":"failover""#))
    }
}
