/// One mapping of a configuration file, declared once: the keys it allows, what each means, its
/// default and bounds. The loader refuses keys it does not declare, and the configuration
/// reference (`docs/configuration.md`) is printed from it. A class: sections nest.
public final class ConfigSection: Sendable {
    /// Where the mapping is, as the reference names it: `targets[].vault`.
    public let path: String
    public let summary: String
    public let fields: [FieldDescription]
    /// For a mapping whose keys are names the user chooses (a model, a header, a provider): what a
    /// key is, and the section each value follows (nil: a single value).
    public let entries: Entries?

    public struct Entries: Sendable {
        public let key: String
        public let value: ConfigSection?
        public init(key: String, value: ConfigSection? = nil) {
            self.key = key
            self.value = value
        }
    }

    public convenience init(_ path: String, _ summary: String, _ fields: any DeclaredField..., entries: Entries? = nil) {
        self.init(path, summary, fields: fields, entries: entries)
    }

    public init(_ path: String, _ summary: String, fields: [any DeclaredField], entries: Entries? = nil) {
        self.path = path
        self.summary = summary
        self.fields = fields.map(\.description)
        self.entries = entries
    }

    /// Every key a file may write here (a credential allows `<name>_env` and `<name>_file`).
    public var keys: [String] { fields.flatMap(\.keys) }

    /// This section and every section nested in it, depth first, each once.
    public var all: [ConfigSection] {
        var sections = [self]
        for nested in fields.compactMap(\.nested) + [entries?.value].compactMap({ $0 }) {
            for section in nested.all where !sections.contains(where: { $0.path == section.path }) { sections.append(section) }
        }
        return sections
    }
}

/// What the reference says about one field.
public struct FieldDescription: Sendable {
    /// The field's name; a credential's is `token` for `token_env` | `token_file`.
    public let name: String
    /// The keys it allows in a file.
    public let keys: [String]
    public let type: String
    /// The default as written in a file; `required`, or `none` when absent means off.
    public let defaultText: String
    /// Bounds or choices (`at most 6h`, `1 to 20`, `propose, perform`); empty when none.
    public let bounds: String
    /// One line of meaning.
    public let meaning: String
    /// The section its value follows, for a mapping or a list of mappings.
    public let nested: ConfigSection?

    public init(
        name: String, keys: [String]? = nil, type: String, defaultText: String, bounds: String = "", meaning: String,
        nested: ConfigSection? = nil
    ) {
        self.name = name
        self.keys = keys ?? [name]
        self.type = type
        self.defaultText = defaultText
        self.bounds = bounds
        self.meaning = meaning
        self.nested = nested
    }

    public var required: Bool { defaultText == "required" }
}

/// Anything that describes itself as a field of a section.
public protocol DeclaredField: Sendable {
    var description: FieldDescription { get }
}
