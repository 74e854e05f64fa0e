import AgentConfig
import Foundation
import Probing
import Testing
import YAMLConfig
import Yams

/// Every file under `deploy/` is parsed, loaded through the agent's own loaders, or verified.
@Suite struct DeployTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let deploy = root + "/deploy"
    static let fixtures = root + "/fixtures/aigw"

    static var files: [String] {
        (FileManager.default.enumerator(atPath: deploy)?.allObjects as? [String] ?? []).filter { !$0.hasSuffix("/") }.sorted()
    }

    @Test func everyFileUnderDeployIsCoveredHere() {
        let covered: Set<String> = [
            "Dockerfile", "install-deps.sh", "check-operations.sh", "config.example.yml", "examples/production.yml", "examples/staging.yml",
            "kubernetes/failover-agent.yaml", "systemd/failover-agent.service", "prometheus/failover-agent.rules.yml",
            "prometheus/failover-agent.rules.test.yml", "prometheus/prometheusrule.yaml", "grafana/failover-agent.json",
        ]
        let files = Set(Self.files.filter { !FileManager.default.isDirectory(Self.deploy + "/" + $0) })
        #expect(files == covered, "a new file in deploy/ needs a test here")
    }

    @Test(arguments: ["examples/production.yml", "examples/staging.yml"])
    func exampleConfigsPassTheAgentsValidation(_ file: String) throws {
        var configuration = try AgentConfiguration.load(file: Self.deploy + "/" + file)
        #expect(configuration.targets.count == 2)
        #expect(Set(configuration.targets.map { $0.name.split(separator: "-").first.map(String.init) ?? "" }) == ["aigw", "dws"])
        let environment = file.contains("production") ? "production" : "staging"
        for target in configuration.targets {
            #expect(target.mode == (environment == "production" ? .propose : .perform), "\(target.name)")
            #expect(
                target.vault.path.hasPrefix("env/\(environment)/service/")
                    && target.vault.path.hasSuffix("/AIGW_MODEL_SELECTION__DEFAULT_MODELS"))
            // One pipeline holds every service's trigger job: each target's matcher names exactly its own.
            let service = target.name.hasPrefix("aigw") ? "ai-gateway" : "duo-workflow-svc"
            let other = environment == "production" ? "staging" : "production"
            #expect(target.gitlab.matches(jobName: "🛫 [\(service)] Trigger runway deployment \(environment)"), "\(target.name)")
            for name in [
                "🛫 [\(service)] Trigger runway deployment \(other)", "🛫 [ai-gateway-custom] Trigger runway deployment \(environment)",
                "🛫 [\(service == "ai-gateway" ? "duo-workflow-svc" : "ai-gateway")] Trigger runway deployment \(environment)",
                "🛫 [x] Trigger runway deployment \(environment)",
            ] {
                #expect(!target.gitlab.matches(jobName: name), "\(target.name) must not match \(name)")
            }
            #expect(target.gitlab.project.hasPrefix("gitlab-org/security/"), "the trigger jobs are in the security mirror")
        }
        // The catalog lives where the gateway's files are mounted; the gateway's shapes are in the fixtures.
        configuration.catalog?.models = Self.fixtures + "/models.yml"
        configuration.catalog?.unitPrimitives = Self.fixtures + "/unit_primitives.yml"
        #expect(try configuration.planner().features.count > 0)
    }

    @Test func theStagingExampleUsesTheShippedProbes() throws {
        let configuration = try AgentConfiguration.load(file: Self.deploy + "/examples/staging.yml")
        let (specs, errors) = ProbeSpecLoader.loadDirectory(configuration.agent.probes, environment: Self.probeEnvironment)
        #expect(errors.isEmpty, "\(errors)")
        #expect(Set(specs.map(\.provider)).isSuperset(of: ["anthropic", "vertex", "bedrock", "openai"]))
        let drill = try #require(configuration.targets.first { $0.name == "aigw-staging" }?.drill, "the staging example drills")
        #expect(drill.provider == "vertex" && drill.every == 7 * 86_400 && drill.window?.description == "Tue 09:00-12:00 UTC")
    }

    static let probeEnvironment = [
        "ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k", "AZURE_OPENAI_API_KEY": "k", "AZURE_OPENAI_RESOURCE": "r",
        "AZURE_OPENAI_DEPLOYMENT": "d",
        "FIREWORKS_API_KEY": "k", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "k", "VERTEX_PROJECT": "p",
    ]

    func kubernetesDocuments() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: Self.deploy + "/kubernetes/failover-agent.yaml", encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    func document(_ kind: String, in documents: [[String: Any]]) throws -> [String: Any] {
        try #require(documents.first { $0["kind"] as? String == kind }, "\(kind) in the manifests")
    }

    @Test func theKubernetesManifestsRunTwoReplicasOnALease() throws {
        let documents = try kubernetesDocuments()
        #expect(
            documents.compactMap { $0["kind"] as? String }.sorted() == [
                "ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount",
            ])
        for document in documents {
            let metadata = document["metadata"] as? [String: Any]
            #expect(metadata?["namespace"] as? String == "failover-agent", "\(document["kind"] ?? "?")")
        }
        let role = try document("Role", in: documents)
        let rules = try #require(role["rules"] as? [[String: Any]])
        #expect(rules.count == 1, "least privilege: leases only")
        #expect(rules[0]["apiGroups"] as? [String] == ["coordination.k8s.io"] && rules[0]["resources"] as? [String] == ["leases"])
        #expect(Set(rules[0]["verbs"] as? [String] ?? []) == ["get", "create", "update"])

        let deployment = try document("Deployment", in: documents)
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 2)
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["serviceAccountName"] as? String == "failover-agent")
        #expect((pod["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool == true)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let env = container["env"] as? [[String: Any]] ?? []
        for (name, field) in [("POD_NAME", "metadata.name"), ("POD_IP", "status.podIP")] {
            let variable = env.first { $0["name"] as? String == name }
            #expect(
                ((variable?["valueFrom"] as? [String: Any])?["fieldRef"] as? [String: Any])?["fieldPath"] as? String == field,
                "\(name) from the downward API")
        }
        for probe in ["livenessProbe", "readinessProbe"] {
            let path = ((container[probe] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String
            #expect(path == "/healthz", "\(probe) uses the agent's own endpoint")
        }

        // The ConfigMap's config goes through the real loader, with leader election on.
        let configMap = try document("ConfigMap", in: documents)
        let text = try #require((configMap["data"] as? [String: Any])?["config.yml"] as? String)
        let configuration = try AgentConfiguration.parse(YAMLFields.parse(text, file: "kubernetes/failover-agent.yaml#config.yml"))
        let election = try #require(configuration.agent.leaderElection)
        #expect(election.namespace == "failover-agent" && election.identityEnv == "POD_NAME")
        #expect(election.timing.renewDeadline < election.timing.leaseDuration)
        #expect(configuration.agent.listenHost == "0.0.0.0", "reachable by the kubelet's probes and the Service")
        let lease = try election.lease(environment: ["POD_NAME": "failover-agent-7d9f-abcde"])
        #expect(try election.address(environment: ["POD_IP": "10.4.2.17"], port: 9464) == "http://10.4.2.17:9464")
        #expect(try election.address(environment: ["POD_IP": "fd00::17"], port: 9464) == "http://[fd00::17]:9464")
        #expect(lease.identity == "failover-agent-7d9f-abcde" && lease.apiServer == "https://kubernetes.default.svc")
        let args = container["args"] as? [String] ?? []
        let mounts = container["volumeMounts"] as? [[String: Any]] ?? []
        #expect(
            args.last.map { config in mounts.contains { config.hasPrefix(($0["mountPath"] as? String ?? "?") + "/") } } == true,
            "the config file is mounted")
    }

    @Test func theDockerfileBuildsAndRunsAsNonRoot() throws {
        let lines = try String(contentsOfFile: Self.deploy + "/Dockerfile", encoding: .utf8).split(separator: "\n").map(String.init)
        let stages = lines.filter { $0.hasPrefix("FROM ") }
        #expect(stages.count == 2)
        #expect(stages.first?.contains("swift:") == true && stages.last?.contains("slim") == true)
        let runtime = lines.drop { !$0.hasPrefix("FROM debian") }
        #expect(runtime.contains { $0.contains("libcurl4") && $0.contains("ca-certificates") })
        #expect(runtime.contains { $0.hasPrefix("USER ") && !$0.contains("root") && !$0.hasPrefix("USER 0") })
        for copied in lines.filter({ $0.hasPrefix("COPY ") && !$0.contains("--from") }) {
            let source = copied.split(separator: " ")[1]
            #expect(FileManager.default.fileExists(atPath: Self.root + "/" + source), "\(source) exists in the repository")
        }
    }

    @Test func theSystemdUnitVerifies() throws {
        let unit = try String(contentsOfFile: Self.deploy + "/systemd/failover-agent.service", encoding: .utf8)
        for hardening in [
            "NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "StateDirectory=failover-agent", "KillSignal=SIGTERM",
        ] {
            #expect(unit.contains(hardening))
        }
        guard let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile) else {
            return
        }
        // Verify a copy whose ExecStart is the binary just built.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("failover-agent-\(UUID()).service").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try unit.replacingOccurrences(of: "/usr/local/bin/failover-agent", with: ProbeBinary.path).write(
            toFile: copy, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        process.arguments = ["verify", copy]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && said.isEmpty, "systemd-analyze verify: \(said)")
    }
}

enum ProbeBinary {
    /// The built `failover-agent`, beside the test bundle.
    static var path: String {
        URL(fileURLWithPath: DeployTests.root).appendingPathComponent(".build/debug/failover-agent").path
    }
}

extension FileManager {
    func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
