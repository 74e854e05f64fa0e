// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]
/// The decision core replays days of probes in each test: optimised even in debug builds, so the
/// test pass stays minutes, not tens of minutes.
let optimised: [SwiftSetting] = strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "failover-agent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "failover-agent", targets: ["failover-agent"]),
        .executable(name: "failover-agent-bench", targets: ["failover-agent-bench"]),
        .executable(name: "failover-agent-probe-bench", targets: ["failover-agent-probe-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The decision core (pure): results, health, selection, the action lifecycle, the agent core, leadership, scenarios and replay.
        .target(name: "ProbeResults", swiftSettings: optimised),
        .target(name: "Health", dependencies: ["ProbeResults"], swiftSettings: optimised),
        .target(name: "Selection", dependencies: ["ProbeResults"], swiftSettings: strict),
        .target(name: "Lifecycle", dependencies: ["ProbeResults", "Selection"], swiftSettings: strict),
        .target(name: "Timekeeping", swiftSettings: strict),
        .target(name: "AgentCore", dependencies: ["Health", "Lifecycle", "ProbeResults"], swiftSettings: optimised),
        .target(name: "Leadership", swiftSettings: strict),
        .target(name: "Scenarios", dependencies: ["ProbeResults"], swiftSettings: optimised),
        .target(name: "Replay", dependencies: ["AgentCore", "Health", "ProbeResults", "Scenarios", "Selection"], swiftSettings: optimised),
        // The edges: libcurl HTTP, secrets, AWS signing, probes; the JSON base and one client per system the agent acts on.
        .target(name: "Secrets", swiftSettings: strict),
        .target(name: "AWSEventStream", swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["CCurl", "Secrets"], swiftSettings: strict),
        .target(name: "AWSSigning", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(
            name: "Probing",
            dependencies: [
                "AWSEventStream", "AWSSigning", "ControlAPI", "HTTP", "ProbeResults", "Secrets", "Timekeeping", "YAMLConfig",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ], swiftSettings: strict),
        .target(
            name: "ProbeTemplates",
            dependencies: ["AWSSigning", "ControlAPI", "HTTP", "Probing", "Secrets", "Selection"], swiftSettings: strict),
        .target(name: "ControlAPI", dependencies: ["HTTP", "Lifecycle", "Secrets", "Timekeeping"], swiftSettings: strict),
        .target(name: "VaultClient", dependencies: ["ControlAPI", "HTTP", "Secrets", "Timekeeping"], swiftSettings: strict),
        .target(
            name: "GitLabClient",
            dependencies: ["ControlAPI", "HTTP", "Lifecycle", "Secrets", "Timekeeping", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(name: "GatewayClient", dependencies: ["ControlAPI", "HTTP", "Selection", "Timekeeping"], swiftSettings: strict),
        // The gateway's own traffic, read from its Prometheus and mapped to the subjects the agent judges.
        .target(
            name: "TrafficClient", dependencies: ["ControlAPI", "HTTP", "Health", "ProbeResults", "Selection", "Timekeeping"],
            swiftSettings: strict),
        .target(name: "Paging", dependencies: ["ControlAPI", "HTTP", "Lifecycle", "Secrets", "Timekeeping"], swiftSettings: strict),
        .target(name: "KubernetesClient", dependencies: ["ControlAPI", "HTTP", "Leadership", "Timekeeping"], swiftSettings: strict),
        // Carrying actions out, the journal, telemetry, configuration, the run loop and its API.
        .target(
            name: "Actions",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), "ControlAPI", "GatewayClient", "GitLabClient", "HTTP", "Lifecycle",
                "ProbeResults", "Selection", "Timekeeping", "VaultClient",
            ],
            swiftSettings: strict),
        .target(
            name: "Journal", dependencies: ["Secrets", "Timekeeping", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .target(
            name: "Telemetry",
            dependencies: [
                "ProbeResults", .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ], swiftSettings: strict),
        .target(name: "YAMLConfig", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .target(
            name: "AgentConfig",
            dependencies: [
                "Actions", "AgentCore", "ControlAPI", "GatewayClient", "GitLabClient", "Health", "KubernetesClient", "Leadership", "Paging",
                "ProbeResults", "ProbeTemplates", "Probing", "Scenarios", "Selection", "TrafficClient", "VaultClient", "YAMLConfig",
            ], swiftSettings: strict),
        .target(
            name: "HTTPServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], swiftSettings: strict),
        .target(
            name: "Agent",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                "Actions", "AgentCore", "ControlAPI", "HTTP", "HTTPServer", "Health", "Journal", "KubernetesClient", "Leadership", "Paging",
                "ProbeResults", "Probing", "Secrets", "Telemetry", "Timekeeping", "TrafficClient",
            ], swiftSettings: strict),
        // The simulators (real HTTP servers on 127.0.0.1) and the demo world built on them; `demo` ships them in the CLI.
        .target(name: "ProviderSimulators", dependencies: ["AWSEventStream", "HTTPServer", "ProbeResults"], swiftSettings: strict),
        .target(
            name: "ControlSimulators",
            dependencies: ["ControlAPI", "GitLabClient", "HTTPServer", "Selection", "Timekeeping", "TrafficClient"],
            swiftSettings: strict),
        .target(
            name: "Demo",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                "Actions", "Agent", "AgentConfig", "AgentCore", "ControlSimulators", "GatewayClient", "GitLabClient", "HTTP", "HTTPServer",
                "Health", "Journal", "Paging", "ProbeResults", "Probing", "ProviderSimulators", "Scenarios", "Selection", "Telemetry",
                "Timekeeping", "TrafficClient", "VaultClient",
            ], swiftSettings: strict),
        // The executables.
        .executableTarget(
            name: "failover-agent",
            dependencies: [
                "Actions", "Agent", "AgentConfig", "AgentCore", "ControlAPI", "Demo", "HTTP", "HTTPServer", "Journal", "KubernetesClient",
                "Paging", "ProbeResults", "Probing", "Replay", "Scenarios", "Secrets", "Selection", "Telemetry", "TrafficClient",
                "YAMLConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], swiftSettings: strict),
        .executableTarget(
            name: "failover-agent-bench",
            dependencies: [
                "AgentConfig", "BenchSupport", "Health", "ProbeResults", "Replay", "Scenarios", "Simulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        // The probe engine's benchmark links only the HTTP client and server: its peak RSS is the client's own.
        .executableTarget(
            name: "failover-agent-probe-bench",
            dependencies: ["BenchSupport", "HTTP", "HTTPServer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .target(
            name: "Simulation",
            dependencies: [
                "Actions", "Agent", "AgentConfig", "AgentCore", "ControlAPI", "ControlSimulators", "GatewayClient", "GitLabClient", "HTTP",
                "HTTPServer", "Health", "Journal", "Lifecycle", "ProbeResults", "Scenarios", "Selection", "Telemetry", "Timekeeping",
                "TrafficClient", "VaultClient",
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .target(name: "BenchSupport", swiftSettings: strict),
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        // Tests.
        .testTarget(name: "AWSSigningTests", dependencies: ["AWSSigning"], swiftSettings: strict),
        .testTarget(
            name: "AgentCoreTests",
            dependencies: [
                "TestSupport", "AgentConfig", "AgentCore", "Health", "Lifecycle", "ProbeResults", "Scenarios", "Selection", "YAMLConfig",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Actions", "Agent", "AgentConfig", "AgentCore", "ControlAPI", "ControlSimulators", "GatewayClient", "GitLabClient", "HTTP",
                "Journal", "Selection", "Telemetry", "Timekeeping", "VaultClient",
            ], swiftSettings: strict),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "failover-agent", "AgentConfig", "ControlAPI", "ControlSimulators", "GitLabClient", "HTTP", "HTTPServer",
                "ProviderSimulators",
                "Selection",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ControlTests",
            dependencies: [
                "Actions", "AgentConfig", "ControlAPI", "ControlSimulators", "GatewayClient", "GitLabClient", "HTTP", "Journal", "Paging",
                "Secrets", "Selection", "Telemetry", "Timekeeping", "VaultClient", "YAMLConfig",
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(
            name: "DemoTests",
            dependencies: [
                "Agent", "AgentConfig", "AgentCore", "ControlAPI", "ControlSimulators", "Demo", "HTTP", "HTTPServer", "Journal",
                "Scenarios",
                "Timekeeping", "YAMLConfig",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "DeployTests",
            dependencies: ["failover-agent", "AgentConfig", "Probing", "Telemetry", "YAMLConfig", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "HTTPServer"], swiftSettings: strict),
        .testTarget(name: "HealthTests", dependencies: ["TestSupport", "Health", "ProbeResults"], swiftSettings: strict),
        .testTarget(
            name: "HostileInputTests",
            dependencies: [
                "AWSSigning", "Agent", "AgentConfig", "Demo", "HTTP", "HTTPServer", "Probing", "Secrets", "Selection", "YAMLConfig",
            ], swiftSettings: strict),
        .testTarget(name: "JournalTests", dependencies: ["Journal"], swiftSettings: strict),
        .testTarget(name: "SimulationTests", dependencies: ["ControlSimulators", "Simulation"], swiftSettings: strict),
        .testTarget(name: "TimekeepingTests", dependencies: ["Timekeeping"], swiftSettings: strict),
        .testTarget(
            name: "LeadershipTests",
            dependencies: ["Agent", "ControlSimulators", "HTTP", "KubernetesClient", "Leadership", "Telemetry", "Timekeeping"],
            swiftSettings: strict),
        .testTarget(
            name: "ProbingTests",
            dependencies: ["AWSSigning", "HTTP", "HTTPServer", "ProbeResults", "Probing", "ProviderSimulators", "Secrets", "YAMLConfig"],
            swiftSettings: strict),
        .testTarget(
            name: "ReplayTests",
            dependencies: ["TestSupport", "AgentConfig", "Health", "ProbeResults", "Replay", "Scenarios", "YAMLConfig"],
            swiftSettings: strict),
        .testTarget(
            name: "ProbeTemplatesTests",
            dependencies: [
                "AgentConfig", "HTTP", "ProbeResults", "ProbeTemplates", "Probing", "ProviderSimulators", "Selection", "YAMLConfig",
            ],
            swiftSettings: strict),
        .testTarget(name: "AWSEventStreamTests", dependencies: ["AWSEventStream", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SelectionTests", dependencies: ["AgentConfig", "Health", "Selection", "TrafficClient"], swiftSettings: strict),
        .testTarget(
            name: "TelemetryTests", dependencies: ["ProbeResults", "Telemetry", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
    ]
)
