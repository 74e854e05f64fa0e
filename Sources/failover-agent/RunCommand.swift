import Actions
import Agent
import AgentConfig
import AgentCore
import ArgumentParser
import ControlAPI
import Foundation
import HTTP
import HTTPServer
import Journal
import KubernetesClient
import Logging
import Paging
import Probing
import Selection
import ServiceLifecycle
import Telemetry
import Timekeeping
import TrafficClient

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch every provider unattended; propose or perform failovers and restores per target.",
        discussion: "SIGINT or SIGTERM finishes the action in flight and exits cleanly. Exit status 2 on a bad config, probe spec or token."
    )

    @Option(help: "Agent config file.") var config: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let (configuration, planner) = try loadConfiguration(config)
        let (handWritten, errors) = configuration.handWrittenProbes(environment: environment)
        for error in errors { printError("error: \(error)") }
        guard errors.isEmpty, !handWritten.isEmpty || configuration.modelProbes != nil else { throw ExitCode(2) }
        let probes: ProbeSet
        do { probes = try ProbeSet.build(configuration, planner: planner, handWritten: handWritten, environment: environment) } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        let specs = probes.specs
        guard !specs.isEmpty else {
            printError("error: \(config): nothing to probe (agent.probes and model_probes give no probe)")
            throw ExitCode(2)
        }
        let client = HTTPClient(configuration: .init(caBundle: configuration.caBundle))
        defer { client.shutdown() }
        let format = configuration.agent.logFormat
        LoggingSystem.bootstrap { label in
            ScrubbingLogHandler(
                wrapped: format == .json
                    ? JSONLogHandler(label: label, unixTime: { processClock.unixTime }) : StreamLogHandler.standardOutput(label: label))
        }
        var logger = Logger(label: "failover-agent")
        logger.logLevel = .info
        let metrics = PrometheusMetrics()
        // Production's time (``processClock``): everything below waits and reads on it.
        let clock = processClock
        var parts: AgentLoop.Parts
        var traffic: [TrafficSource] = []
        var preflight: Preflight?
        let token: String
        var election: LeaderElection?
        let kubernetes = configuration.agent.leaderElection.map { HTTPClient(configuration: .init(caBundle: $0.caFile)) }
        defer { kubernetes?.shutdown() }
        do {
            token = try configuration.agent.apiToken.resolve(environment)
            if let settings = configuration.agent.leaderElection, let kubernetes {
                election = LeaderElection(
                    leases: try KubernetesLeases(
                        settings: try settings.lease(environment: environment), client: kubernetes, environment: environment, clock: clock),
                    logger: logger, clock: clock)
            }
            let prober = Prober(client: client, clock: clock)
            preflight = Preflight(specs: specs, prober: prober)
            let executors = try configuration.targets.map { target throws(ControlError) in
                var executor = try TargetExecutor(
                    target: target, planner: planner, client: client, environment: environment, logger: logger, clock: clock)
                executor.preflight = { [preflight] in await preflight?.probe($0) ?? [:] }
                executor.catalogParser = CatalogLoader.deployedParser
                return executor
            }
            let pagers = Pagers(
                try configuration.pagers.map { settings throws(ControlError) in
                    try Pager(settings: settings, client: client, environment: environment, clock: clock)
                })
            let journal = try Journal(path: configuration.agent.journal, clock: clock)
            let mapping = TrafficMapping(catalog: planner.catalog, subjects: Set(probes.endpoints.map(\.subject)))
            traffic = try configuration.traffic.sorted { $0.key < $1.key }.map { _, settings throws(ControlError) in
                try TrafficSource(
                    settings: settings,
                    mapping: TrafficMapping(
                        catalog: mapping.catalog, subjects: mapping.subjects, callerErrorTypes: settings.callerErrorTypes),
                    client: client, environment: environment, clock: clock)
            }
            parts = AgentLoop.Parts(
                specs: specs, prober: prober,
                runner: ActionRunner(journal: journal, executors: executors, isLeader: { [election] in election?.isLeader ?? true }),
                pagers: pagers, journal: journal, metrics: metrics.metrics, election: election, logger: logger,
                clock: clock, readinessInterval: configuration.agent.readinessInterval)
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        parts.traffic = traffic
        var settings = AgentCore.Settings(
            targets: configuration.targets.map { (name: $0.name, mode: $0.mode) },
            restoreMode: configuration.agent.restoreMode, proposalLifetime: configuration.agent.proposalLifetime,
            maxFailoversPerHour: configuration.agent.maxFailoversPerHour, groups: configuration.groups,
            emptyFailovers: planner.emptyFailovers(probes.endpoints.map(\.subject)),
            trafficStaleAfter: configuration.traffic.values.map { $0.staleAfter / .seconds(1) }.min(),
            trafficWindow: configuration.traffic.values.map { $0.interval / .seconds(1) }.max())
        settings.drills = Dictionary(
            uniqueKeysWithValues: configuration.targets.compactMap { target in target.drill.map { (target.name, $0) } })
        let loop = AgentLoop(
            core: AgentCore(
                settings: settings, endpoints: probes.endpoints, policy: configuration.policy,
                stretch: probes.stretch(steady: configuration.policy.steadyInterval)),
            parts: parts)
        preflight?.gate.attach(loop)
        let forwarding = election.map { AgentAPI.Forwarding(election: $0, client: client) }
        let server: HTTPServer
        do {
            server = try await HTTPServer.start(
                host: configuration.agent.listenHost, port: configuration.agent.listenPort, limits: AgentAPI.limits(token: token),
                asyncHandler: AgentAPI.handler(loop: loop, token: token, metrics: metrics.text, forwarding: forwarding))
        } catch {
            printError(
                "error: \(config): agent.listen: cannot listen on \(configuration.agent.listenHost):\(configuration.agent.listenPort): "
                    + "\(error)"
            )
            throw ExitCode(2)
        }
        if let election, let settings = configuration.agent.leaderElection {
            do { election.publish(LeaderElection.addressKey, try settings.address(environment: environment, port: server.port)) } catch {
                printError("error: \(error)")
                await server.stop()
                throw ExitCode(2)
            }
        }
        let listening = "\(configuration.agent.listenHost):\(server.port)"
        logger.notice("failover-agent running: \(specs.count) probes, \(configuration.targets.count) targets, API on \(listening)")
        // Shut down in reverse order: the agent finishes the action in flight, then the API stops.
        // With leader election, the Lease is released only after the agent has stopped acting.
        let services: [any Service] =
            [APIService(server: server)] + (election.map { [ElectionService(election: $0)] } ?? []) + [AgentService(loop: loop)]
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do { try await group.run() } catch { logger.error("stopped on an error: \(error)") }
        logger.notice("stopped")
    }
}

/// The agent loop as a service: a graceful shutdown stops it, and it lets the action in flight finish.
struct AgentService: Service {
    let loop: AgentLoop
    func run() async throws {
        await withGracefulShutdownHandler {
            await loop.run()
        } onGracefulShutdown: {
            loop.stop()
        }
    }
}

/// Campaigning for and renewing the Lease; a graceful shutdown releases it.
struct ElectionService: Service {
    let election: LeaderElection
    func run() async throws {
        await withGracefulShutdownHandler {
            await election.run()
        } onGracefulShutdown: {
            election.stop()
        }
    }
}

/// The agent's HTTP API, stopped once the agent has finished.
struct APIService: Service {
    let server: HTTPServer
    func run() async throws {
        try? await gracefulShutdown()
        await server.stop()
    }
}
