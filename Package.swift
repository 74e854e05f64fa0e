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
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "Secrets", swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["CCurl", "Secrets"], swiftSettings: strict),
        .target(name: "AWSSigning", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(
            name: "Config", dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .target(name: "ProbeResults", swiftSettings: optimised),
        .target(name: "Health", dependencies: ["ProbeResults"], swiftSettings: optimised),
        .target(name: "Scenarios", dependencies: ["ProbeResults"], swiftSettings: optimised),
        .target(name: "Selection", dependencies: ["ProbeResults"], swiftSettings: strict),
        .target(name: "Lifecycle", swiftSettings: strict),
        .target(name: "AgentCore", dependencies: ["Health", "ProbeResults", "Lifecycle"], swiftSettings: optimised),
        .target(name: "Leadership", swiftSettings: strict),
        .target(name: "Control", dependencies: ["HTTP", "Secrets", "Selection", "Leadership", "Lifecycle"], swiftSettings: strict),
        .target(name: "Replay", dependencies: ["Scenarios", "Health", "AgentCore", "ProbeResults"], swiftSettings: optimised),
        .target(
            name: "ConfigFiles", dependencies: ["Config", "Health", "Scenarios", "Selection", "Control", "AgentCore", "Leadership"],
            swiftSettings: strict),
        .target(
            name: "Probing",
            dependencies: [
                "HTTP", "Secrets", "Config", "ProbeResults", "AWSSigning", .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: strict),
        .target(
            name: "HTTPServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ], swiftSettings: strict),
        .target(name: "Sandbox", dependencies: ["ProbeResults", "HTTPServer"], swiftSettings: strict),
        .target(name: "Journal", dependencies: ["Secrets", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: strict),
        .target(
            name: "Telemetry",
            dependencies: [
                "ProbeResults", .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .target(
            name: "Agent",
            dependencies: [
                "Secrets", "AgentCore", "Control", "Journal", "Probing", "Health", "ProbeResults", "HTTPServer", "Telemetry", "Leadership",
            ], swiftSettings: strict),
        .target(
            name: "Demo",
            dependencies: [
                "Agent", "AgentCore", "ConfigFiles", "Control", "HTTP", "HTTPServer", "Health", "Journal", "ProbeResults", "Probing",
                "Sandbox", "SandboxControl", "Scenarios", "Selection", "Telemetry",
            ],
            swiftSettings: strict),
        .target(name: "SandboxControl", dependencies: ["HTTPServer", "Control"], swiftSettings: strict),
        .executableTarget(
            name: "failover-agent",
            dependencies: [
                "Secrets", "Probing", "Sandbox", "Replay", "ConfigFiles", "Control", "Selection", "HTTP", "Journal", "Agent", "AgentCore",
                "HTTPServer", "Demo",
                "Telemetry", "Leadership", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .executableTarget(
            name: "failover-agent-bench",
            dependencies: [
                "HTTP", "HTTPServer", "Replay", "Scenarios", "Health", "ProbeResults", "ConfigFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "HTTPServer"], swiftSettings: strict),
        .testTarget(name: "AWSSigningTests", dependencies: ["AWSSigning"], swiftSettings: strict),
        .testTarget(
            name: "HostileInputTests",
            dependencies: [
                "AWSSigning", "Agent", "Config", "ConfigFiles", "Demo", "HTTP", "HTTPServer", "Probing", "Secrets", "Selection",
            ],
            swiftSettings: strict),
        .testTarget(name: "HealthTests", dependencies: ["Health", "ProbeResults"], swiftSettings: strict),
        .testTarget(
            name: "ReplayTests", dependencies: ["Replay", "Scenarios", "Health", "ConfigFiles", "Config", "ProbeResults"],
            swiftSettings: strict),
        .testTarget(name: "SelectionTests", dependencies: ["Selection", "ConfigFiles", "Config"], swiftSettings: strict),
        .testTarget(
            name: "ControlTests",
            dependencies: ["Control", "Selection", "SandboxControl", "ConfigFiles", "HTTP", "Config", "Journal", "Secrets"],
            swiftSettings: strict),
        .testTarget(name: "JournalTests", dependencies: ["Journal"], swiftSettings: strict),
        .testTarget(
            name: "DeployTests",
            dependencies: ["failover-agent", "ConfigFiles", "Config", "Probing", "Telemetry", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .testTarget(
            name: "LeadershipTests", dependencies: ["Leadership", "Agent", "Control", "SandboxControl", "HTTP"], swiftSettings: strict),
        .testTarget(
            name: "DemoTests", dependencies: ["Demo", "Agent", "AgentCore", "ConfigFiles", "Config", "Scenarios", "HTTP"],
            swiftSettings: strict),
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "AgentCore", "Journal", "Control", "Selection", "SandboxControl", "ConfigFiles", "HTTP"],
            swiftSettings: strict),
        .testTarget(
            name: "TelemetryTests", dependencies: ["Telemetry", "ProbeResults", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(name: "AgentCoreTests", dependencies: ["AgentCore", "Health", "ProbeResults", "Lifecycle"], swiftSettings: strict),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "failover-agent", "Sandbox", "HTTP", "HTTPServer", "SandboxControl", "Control", "Journal", "ConfigFiles", "Selection",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ProbingTests", dependencies: ["Probing", "Sandbox", "HTTPServer", "Config", "AWSSigning", "HTTP", "Secrets"],
            swiftSettings: strict),
    ]
)
