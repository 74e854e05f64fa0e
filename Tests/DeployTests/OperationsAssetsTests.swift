import AgentConfig
import Foundation
import Telemetry
import Testing
import YAMLConfig
import Yams

/// The alert rules, the PrometheusRule, the dashboard and the pod's network rules agree with the
/// metrics the agent exports and the port it listens on. (promtool and kubernetes-validate check
/// their syntax and schemas in CI: deploy/check-operations.sh.)
@Suite struct OperationsAssetsTests {
    static let prometheus = DeployTests.deploy + "/prometheus"

    func yaml(_ path: String) throws -> [String: Any] {
        try #require(try Yams.load(yaml: String(contentsOfFile: path, encoding: .utf8)) as? [String: Any])
    }

    func rules(_ document: [String: Any]) throws -> [[String: Any]] {
        let groups = try #require(document["groups"] as? [[String: Any]])
        return groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }
    }

    /// Metric names an expression uses, histogram suffixes removed.
    static func metricNames(in expression: String) -> Set<String> {
        let regex = /failover_agent_[a-z_]+/
        return Set(
            expression.matches(of: regex).map { match in
                var name = String(match.output)
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && MetricName(rawValue: name) == nil {
                    name = String(name.dropLast(suffix.count))
                }
                return name
            })
    }

    static let exported = Set(MetricName.allCases.map(\.rawValue))

    @Test func everyAlertUsesExportedMetricsAndPointsAtItsRunbook() throws {
        let alerts = try rules(yaml(Self.prometheus + "/failover-agent.rules.yml"))
        #expect(alerts.count == 12)
        let runbook = try String(contentsOfFile: DeployTests.root + "/docs/operating.md", encoding: .utf8)
        for alert in alerts {
            let name = try #require(alert["alert"] as? String)
            let expression = try #require(alert["expr"] as? String)
            let used = Self.metricNames(in: expression)
            #expect(!used.isEmpty && used.isSubset(of: Self.exported), "\(name) uses \(used.subtracting(Self.exported))")
            #expect(["critical", "warning"].contains((alert["labels"] as? [String: Any])?["severity"] as? String), "\(name) severity")
            let annotations = alert["annotations"] as? [String: Any] ?? [:]
            #expect(annotations["runbook"] as? String == "docs/operating.md, section Alerts: \(name)")
            #expect(runbook.contains("| `\(name)` |"), "docs/operating.md's alert table has a row for \(name)")
        }
    }

    @Test func everyAlertHasAFiringAndAQuietCase() throws {
        let tests = try #require(try yaml(Self.prometheus + "/failover-agent.rules.test.yml")["tests"] as? [[String: Any]])
        let cases = tests.flatMap { $0["alert_rule_test"] as? [[String: Any]] ?? [] }
        for alert in try rules(yaml(Self.prometheus + "/failover-agent.rules.yml")).compactMap({ $0["alert"] as? String }) {
            let mine = cases.filter { $0["alertname"] as? String == alert }
            #expect(mine.contains { ($0["exp_alerts"] as? [Any])?.isEmpty == false }, "\(alert) fires in a test")
            #expect(mine.contains { ($0["exp_alerts"] as? [Any])?.isEmpty ?? true }, "\(alert) stays quiet in a test")
        }
    }

    @Test func thePrometheusRuleSaysWhatThePlainRulesSay() throws {
        let plain = try yaml(Self.prometheus + "/failover-agent.rules.yml")
        let forOperator = try yaml(Self.prometheus + "/prometheusrule.yaml")
        #expect(forOperator["kind"] as? String == "PrometheusRule" && forOperator["apiVersion"] as? String == "monitoring.coreos.com/v1")
        let spec = try #require(forOperator["spec"] as? [String: Any])
        #expect(NSDictionary(dictionary: ["groups": plain["groups"] as Any]).isEqual(to: ["groups": spec["groups"] as Any]))
    }

    @Test func theDashboardLoadsAndQueriesExportedMetrics() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: DeployTests.deploy + "/grafana/failover-agent.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(dashboard["uid"] as? String == "failover-agent")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var used = Set<String>()
        for panel in panels {
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "\(panel["title"] ?? "?") queries something")
            for target in targets { used.formUnion(Self.metricNames(in: target["expr"] as? String ?? "")) }
            #expect(
                ((panel["datasource"] as? [String: Any])?["uid"] as? String) == "${datasource}",
                "panels use the dashboard's datasource variable")
        }
        #expect(used.isSubset(of: Self.exported), "unknown metrics: \(used.subtracting(Self.exported))")
        for needed: MetricName in [.providerState, .probeDuration, .probeResults, .actions, .proposals, .pages] {
            #expect(used.contains(needed.rawValue), "the dashboard shows \(needed.rawValue)")
        }
    }

    @Test func theNetworkPolicyOpensOnlyTheAPIPortAndTheAgentsEgress() throws {
        let documents = try DeployTests().kubernetesDocuments()
        let policy = try DeployTests().document("NetworkPolicy", in: documents)
        let spec = try #require(policy["spec"] as? [String: Any])
        #expect(spec["policyTypes"] as? [String] == ["Ingress", "Egress"])
        let configMap = try DeployTests().document("ConfigMap", in: documents)
        let text = try #require((configMap["data"] as? [String: Any])?["config.yml"] as? String)
        let port = try AgentConfiguration.parse(YAMLFields.parse(text, file: "config.yml")).agent.listenPort
        let ingress = try #require(spec["ingress"] as? [[String: Any]])
        let ingressPorts = ingress.flatMap { $0["ports"] as? [[String: Any]] ?? [] }.compactMap { $0["port"] as? Int }
        #expect(ingressPorts == [port], "ingress only to the API port")
        let egressPorts = Set(
            (spec["egress"] as? [[String: Any]] ?? []).flatMap { $0["ports"] as? [[String: Any]] ?? [] }.compactMap { $0["port"] as? Int })
        #expect(egressPorts == [53, port, 443, 6443, 8200])
        let budget = try DeployTests().document("PodDisruptionBudget", in: documents)
        #expect((budget["spec"] as? [String: Any])?["minAvailable"] as? Int == 1)
    }
}
