import Probing
import YAMLConfig

/// The configuration reference (`docs/configuration.md`), printed from the declared schema: the
/// sections the loaders read, so a field cannot exist in one and not the other.
public enum ConfigReference {
    /// The three kinds of file, each with its nested sections, every section once.
    public static var sections: [ConfigSection] {
        var sections: [ConfigSection] = []
        for root in [ConfigurationSchema.section, ProbeSpecLoader.section, ScenarioLoader.section] {
            for section in root.all where !sections.contains(where: { $0.path == section.path }) { sections.append(section) }
        }
        return sections
    }

    /// The reference as Markdown.
    public static var markdown: String {
        var lines = [
            "# Configuration reference", "",
            "Printed by `failover-agent config-reference` from the schema the loaders read; a test fails when this page and the",
            "schema differ. A key a section does not list is refused, naming the file, line and field; so is a value outside its",
            "bounds. Durations are written `500ms`, `10s`, `5m`, `1h` or `1m30s`; relative paths are relative to the file that",
            "names them. A credential is written `<name>_env` (an environment variable holding it) or `<name>_file` (a file",
            "holding it, re-read when it changes), never inline.", "",
            "There are three kinds of file: the agent's configuration (`--config`; [top level](#top-level)), a probe spec",
            "(one file per probe in `agent.probes`; [probe spec](#probe-spec)), and a scenario (`replay`, `demo`;",
            "[scenario](#scenario)). Their meaning is told in [health.md](health.md), [probing.md](probing.md),",
            "[planning-and-acting.md](planning-and-acting.md) and [scenarios.md](scenarios.md).",
        ]
        for section in sections {
            lines += ["", "## \(section.path)", "", section.summary]
            if let entries = section.entries {
                lines += ["", "Keys: \(entries.key)."]
                if let value = entries.value { lines.append("Each value follows \(link(value)).") }
            }
            guard !section.fields.isEmpty else { continue }
            lines += ["", "| Field | Type | Default | Bounds | Meaning |", "|---|---|---|---|---|"]
            for field in section.fields { lines.append(row(field)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The table row of `field`, as the reference prints it.
    public static func row(_ field: FieldDescription) -> String {
        let keys = field.keys.map { "`\($0)`" }.joined(separator: " or ")
        let type = field.nested.map { "\(field.type): \(link($0))" } ?? field.type
        return "| \(keys) | \(type) | \(cell(field.defaultText)) | \(cell(field.bounds)) | \(cell(field.meaning)) |"
    }

    private static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    private static func link(_ section: ConfigSection) -> String { "[\(section.path)](#\(anchor(section.path)))" }

    /// GitHub's heading anchor: lower case, spaces to `-`, punctuation other than `-` and `_` dropped.
    static func anchor(_ heading: String) -> String {
        String(
            heading.lowercased().compactMap { character -> Character? in
                if character == " " { return "-" }
                return character.isLetter || character.isNumber || character == "-" || character == "_" ? character : nil
            })
    }
}
