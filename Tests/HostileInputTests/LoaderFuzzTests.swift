import AWSSigning
import AgentConfig
import Foundation
import Probing
import Secrets
import Selection
import Testing
import YAMLConfig

/// A seeded property test over every loader: the repository's own files, mutated a few bytes at a
/// time (numbers past every bound, YAML anchors and tags, deep nesting, NUL, stray quotes), must
/// load or fail with a `ConfigError`, never trap. Bounded: a fixed number of cases per file.
@Suite struct LoaderFuzzTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    /// 600 in the normal run; `FUZZ_CASES=20000 swift test --filter LoaderFuzzTests` for a long one.
    static let casesPerFile = ProcessInfo.processInfo.environment["FUZZ_CASES"].flatMap(Int.init) ?? 600

    /// SplitMix64: the same seed, the same cases.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let tokens = [
        "99999999999999999999h", "1e309s", "-1", "0", "-0.0s", ".inf", ".nan", "~", "null", "&a x", "*a", "!!binary AAAA",
        "!!python/object:x", "? ",
        "|", ">", "\t", "{{{{{{{{{{{{{{{{{{{{", "[[[[[[[[[[[[[[[[[[[[", "${", "${UNSET}", "$$", "${X:-", "\u{0}", "é", "\u{FFFF}", "\"",
        "'", ":", "- ", "\n- ",
        "\n  ", ": :", "#", "%", "@", "`", "\u{1B}[31m", String(repeating: "9", count: 400), String(repeating: "a", count: 5000),
        "0x7fffffffffffffff",
        "18446744073709551616", "2h30m99999999999999ms", "10s10s10s10s", "http://", "gopher://x", "https://u:p@h/", "\r\n",
    ]

    static func mutate(_ text: String, _ random: inout Random) -> String {
        var bytes = Array(text.utf8)
        for _ in 0...random.below(4) {
            let at = random.below(bytes.count + 1)
            switch random.below(4) {
            case 0: bytes.insert(contentsOf: Array(random.pick(tokens).utf8), at: at)
            case 1 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(12)))
            case 2 where at < bytes.count: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            default:
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                bytes.insert(contentsOf: Array(("\n" + random.pick(lines)).utf8), at: at)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func files(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + directory)) ?? []).filter { $0.hasSuffix(".yml") }.sorted()
            .map { root + "/" + directory + "/" + $0 }
    }

    static let catalog = try! CatalogLoader.models(file: root + "/fixtures/aigw/models.yml")

    /// Runs `load` on `casesPerFile` mutations of each file; counts how many loaded.
    /// Yields every few cases: CPU-bound tests must not hold Swift's cooperative threads (two on a
    /// 2-core machine) for seconds while timing-sensitive tests run beside them.
    func fuzz(_ files: [String], seed: UInt64, _ load: (YAMLFields) throws -> Void) async throws -> (cases: Int, loaded: Int) {
        var random = Random(state: seed)
        var cases = 0
        var loaded = 0
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for _ in 0..<Self.casesPerFile {
                cases += 1
                if cases % 20 == 0 { await Task.yield() }
                guard let yaml = try? YAMLFields.parse(Self.mutate(text, &random), file: file) else { continue }
                if (try? load(yaml)) != nil { loaded += 1 }
            }
        }
        return (cases, loaded)
    }

    @Test func probeSpecs() async throws {
        let env = [
            "ANTHROPIC_API_KEY": "k", "VERTEX_PROJECT": "p", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "OPENAI_API_KEY": "o",
            "AZURE_OPENAI_RESOURCE": "r", "AZURE_OPENAI_DEPLOYMENT": "d", "AZURE_OPENAI_API_KEY": "z", "FIREWORKS_API_KEY": "f",
        ]
        let (cases, loaded) = try await fuzz(Self.files("probes"), seed: 1) { yaml in _ = try ProbeSpecLoader.parse(yaml, environment: env)
        }
        #expect(cases >= 1500 && loaded > 0 && loaded < cases, "\(loaded) of \(cases) loaded")
    }

    @Test func agentConfigs() async throws {
        let (cases, loaded) = try await fuzz([Self.root + "/deploy/config.example.yml"], seed: 2) { yaml in
            _ = try AgentConfiguration.parse(yaml).planner()
        }
        #expect(loaded > 0 && loaded < cases, "\(loaded) of \(cases) loaded")
    }

    @Test func scenarios() async throws {
        let (cases, loaded) = try await fuzz(Self.files("scenarios"), seed: 3) { yaml in _ = try ScenarioLoader.parse(yaml) }
        #expect(loaded > 0 && loaded < cases, "\(loaded) of \(cases) loaded")
    }

    @Test func gatewayCatalogs() async throws {
        let models = try await fuzz([Self.root + "/fixtures/aigw/models.yml"], seed: 4) { yaml in _ = try CatalogLoader.models(yaml) }
        let features = try await fuzz([Self.root + "/fixtures/aigw/unit_primitives.yml"], seed: 5) { yaml in
            let planned = Planner(catalog: Self.catalog, features: try CatalogLoader.features(yaml, catalog: Self.catalog))
            _ = BlastRadius(planner: planned)
        }
        #expect(models.loaded > 0 && features.loaded > 0)
    }

    /// The secret's value and the agent's ownership record, as read from Vault.
    @Test func secretsAndOwnershipRecords() async {
        var random = Random(state: 6)
        let samples = [
            #"{"duo_chat": ["claude_sonnet_4_6_vertex", "claude_sonnet_4_6"], "code_generations": ["claude_sonnet_4_6_bedrock"]}"#,
            #"{"a\"b": ["x\\y", "\u00e9"], "c": []}"#, "", "{}",
        ]
        var parsed = 0
        for round in 0..<3000 {
            if round % 20 == 0 { await Task.yield() }
            let text = Self.mutate(random.pick(samples), &random)
            if let override = try? ModelOverride.parse(text) {
                parsed += 1
                #expect((try? ModelOverride.parse(override.json)) == override, "what is written reads back the same")
                _ = Planner(catalog: Self.catalog, features: Fixtures.features).plan(current: override, failing: ["vertex"])
            }
            _ = try? Ownership(metadata: ["failover-agent/state": text, "failover-agent/key/duo_chat": Self.mutate(text, &random)])
        }
        #expect(parsed > 0)
    }

    /// Durations, `${VAR}` interpolation, the SigV4 signer and the scrubber on random text.
    @Test func smallParsers() async {
        var random = Random(state: 7)
        let signer = SigV4Signer(
            region: "us-east-1", service: "bedrock", credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"))
        for round in 0..<3000 {
            if round % 20 == 0 { await Task.yield() }
            let text = Self.mutate(random.pick(["10s", "1h30m", "${A:-b}$$c", "https://h:1/model/m:0/converse?a=b&c=%2F", "x"]), &random)
            if let duration = DurationText.parse(text) { #expect(duration <= DurationText.ceiling && duration >= .zero) }
            _ = try? Interpolation.expand(text, environment: ["A": "1"])
            _ = try? signer.sign(
                method: "POST", url: text, headers: [("content-type", text)], body: Array(text.utf8),
                epochSeconds: Int64(random.below(4_000_000_000)))
            #expect(!Secrets.scrub(text + " glpat-abcdefghijklmnop").contains("glpat-abcdefghijklmnop"))
        }
    }
}

enum Fixtures {
    static let features = try! CatalogLoader.features(
        file: LoaderFuzzTests.root + "/fixtures/aigw/unit_primitives.yml", catalog: LoaderFuzzTests.catalog)
}
