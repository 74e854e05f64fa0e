import Agent
import AgentCore
import ArgumentParser
import ConfigFiles
import Control
import Foundation
import HTTP
import HTTPServer
import Journal
import Probing
import Selection

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch every provider unattended; propose or perform failovers and restores per target.",
        discussion: "SIGINT or SIGTERM finishes the action in flight and exits cleanly. Exit status 2 on a bad config, probe spec or token.")

    @Option(help: "Agent config file.") var config: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: AgentConfiguration
        let planner: Planner
        do {
            configuration = try AgentConfiguration.load(file: config)
            planner = try configuration.planner()
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        let (specs, errors) = ProbeSpecLoader.loadDirectory(configuration.agent.probes, environment: environment)
        for error in errors { printError("error: \(error)") }
        guard errors.isEmpty, !specs.isEmpty else { throw ExitCode(2) }
        let client = HTTPClient(configuration: .init(caBundle: configuration.caBundle))
        defer { client.shutdown() }
        let log: @Sendable (String) -> Void = { line in print("\(ISO8601DateFormatter().string(from: Date())) \(line)") }
        let parts: AgentLoop.Parts
        let token: String
        do {
            token = try configuration.agent.apiToken.resolve(environment)
            let executors = try configuration.targets.map { target throws(ControlError) in
                TargetExecutor(
                    target: target, planner: planner, vault: try VaultKV(settings: target.vault, client: client, environment: environment),
                    redeployer: Redeployer(gitlab: try GitLab(settings: target.gitlab, client: client, environment: environment))
                ) { log("  [\(target.name)] \($0)") }
            }
            let pagers = Pagers(try configuration.pagers.map { settings throws(ControlError) in try Pager(settings: settings, client: client, environment: environment) })
            let journal = try Journal(path: configuration.agent.journal)
            parts = AgentLoop.Parts(specs: specs, prober: Prober(client: client), runner: ActionRunner(journal: journal, executors: executors), pagers: pagers, journal: journal, log: log)
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        let settings = AgentCore.Settings(
            targets: configuration.targets.map { (name: $0.name, mode: ActionMode(rawValue: $0.mode.rawValue) ?? .propose) },
            restoreMode: configuration.agent.restoreMode, proposalLifetime: configuration.agent.proposalLifetime,
            maxFailoversPerHour: configuration.agent.maxFailoversPerHour)
        let loop = AgentLoop(core: AgentCore(settings: settings, providers: Array(Set(specs.map(\.provider))).sorted(), policy: configuration.policy), parts: parts)
        let server = try await HTTPServer.start(host: configuration.agent.listenHost, port: configuration.agent.listenPort, asyncHandler: AgentAPI.handler(loop: loop, token: token))
        log("failover-agent running: \(specs.count) probes, \(configuration.targets.count) targets, API on \(configuration.agent.listenHost):\(server.port)")
        let running = Task { await loop.run() }
        let signals = SignalWatcher { log("signal received: finishing the action in flight"); running.cancel() }
        await running.value
        signals.stop()
        await server.stop()
        log("stopped")
    }
}

/// Cancels the agent on SIGINT or SIGTERM.
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    init(_ onSignal: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { signal in
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler(handler: onSignal)
            source.resume()
            return source
        }
    }

    func stop() { for source in sources { source.cancel() } }
}
