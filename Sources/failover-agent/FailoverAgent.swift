import ArgumentParser
import Timekeeping

/// The one place this process's time comes from: every command hands it to what it builds, and
/// nothing below reads the machine's clock on its own.
let processClock = WallClock()

@main
struct FailoverAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover-agent",
        abstract: "Keeps an LLM gateway serving when one of its model providers goes down.",
        subcommands: [
            RunCommand.self, ApproveCommand.self, RejectCommand.self, StatusCommand.self, PauseCommand.self, ResumeCommand.self,
            ProbeCommand.self, ReplayCommand.self, CheckCommand.self, PlanCommand.self, FailoverCommand.self, RestoreCommand.self,
            DrillCommand.self, HistoryCommand.self, DemoCommand.self, ConfigReferenceCommand.self,
        ])
}
