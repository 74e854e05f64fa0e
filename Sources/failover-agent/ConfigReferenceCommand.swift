import AgentConfig
import ArgumentParser

/// `failover-agent config-reference`: the configuration reference, from the declared schema.
struct ConfigReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-reference",
        abstract: "Print the configuration reference (every section and field, its type, default and bounds) as Markdown.")

    func run() {
        print(ConfigReference.markdown, terminator: "")
    }
}
