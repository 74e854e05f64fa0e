/// A field declared once, with how the loader reads it: its default, its bounds and the error
/// naming file, line and field when a value breaks them. `fields.read(Schema.timeout)`.
public struct Field<Value>: DeclaredField {
    public let description: FieldDescription
    let reader: @Sendable (YAMLFields) throws(ConfigError) -> Value

    /// A field with its own reading rule; the declared keys are still the only ones allowed.
    public init(_ description: FieldDescription, read: @escaping @Sendable (YAMLFields) throws(ConfigError) -> Value) {
        self.description = description
        self.reader = read
    }

    public var name: String { description.name }
}

extension YAMLFields {
    /// The value of `field` here: its default when absent, an error naming the line when wrong.
    public func read<Value>(_ field: Field<Value>) throws(ConfigError) -> Value {
        if let section, !section.fields.contains(where: { $0.name == field.name }) {
            throw error(nil, "field \(field.name) is read but not declared in section \(section.path) (a bug in failover-agent)")
        }
        return try field.reader(self)
    }

    /// A required nested section (``conform(to:)`` has named it when missing).
    public func require(_ field: Field<YAMLFields?>) throws(ConfigError) -> YAMLFields {
        guard let fields = try read(field) else { throw error(nil, "missing required field \(fieldPath(field.name))") }
        return fields
    }

    /// This mapping checked against `section`: a key it does not declare is refused (a typo must
    /// not pass silently), and a required field that is missing is named.
    public func conform(to section: ConfigSection) throws(ConfigError) -> YAMLFields {
        if section.entries == nil {
            let allowed = Set(section.keys)
            for key in keys where !allowed.contains(key) {
                throw error(key, "unknown field (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        for field in section.fields where field.required && !field.keys.contains(where: has) {
            throw error(nil, "missing required field \(fieldPath(field.keys[0]))")
        }
        var checked = self
        checked.section = section
        return checked
    }
}

extension Field where Value == String {
    /// A required scalar.
    public static func text(_ name: String, type: String = "string", _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: type, defaultText: "required", meaning: meaning)) { yaml throws(ConfigError) in
            try yaml.string(name)
        }
    }

    /// A scalar with a default, one of `choices` when given.
    public static func text(_ name: String, default fallback: String, choices: [String]? = nil, _ meaning: String) -> Field {
        Field(
            FieldDescription(
                name: name, type: "string", defaultText: fallback, bounds: choices?.joined(separator: ", ") ?? "", meaning: meaning)
        ) { yaml throws(ConfigError) in
            try YAMLFields.checkChoice(try yaml.optionalString(name) ?? fallback, choices, yaml, name)
        }
    }

    /// A required http(s) URL; any other scheme (`gopher://`, a bare host) is named at load.
    public static func url(_ name: String, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "URL", defaultText: "required", bounds: "http:// or https://", meaning: meaning)) {
            yaml throws(ConfigError) in
            try YAMLFields.checkURL(try yaml.string(name), yaml, name)
        }
    }

    /// An http(s) URL with a default.
    public static func url(_ name: String, default fallback: String, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "URL", defaultText: fallback, bounds: "http:// or https://", meaning: meaning)) {
            yaml throws(ConfigError) in
            try YAMLFields.checkURL(try yaml.optionalString(name) ?? fallback, yaml, name)
        }
    }

    /// A file path, relative to the configuration file's directory, with a default.
    public static func path(_ name: String, default fallback: String, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "path", defaultText: fallback, meaning: meaning)) { yaml throws(ConfigError) in
            yaml.resolve(try yaml.optionalString(name) ?? fallback)
        }
    }

    /// A required file path, relative to the configuration file's directory.
    public static func path(_ name: String, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "path", defaultText: "required", meaning: meaning)) { yaml throws(ConfigError) in
            yaml.resolve(try yaml.string(name))
        }
    }
}

extension Field where Value == String? {
    /// A scalar that may be absent (nil), one of `choices` when given.
    public static func optionalText(_ name: String, none: String = "none", choices: [String]? = nil, _ meaning: String) -> Field {
        Field(
            FieldDescription(
                name: name, type: "string", defaultText: none, bounds: choices?.joined(separator: ", ") ?? "", meaning: meaning)
        ) { yaml throws(ConfigError) in
            guard let value = try yaml.optionalString(name) else { return nil }
            return try YAMLFields.checkChoice(value, choices, yaml, name)
        }
    }

    /// An http(s) URL that may be absent.
    public static func optionalURL(_ name: String, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "URL", defaultText: "none", bounds: "http:// or https://", meaning: meaning)) {
            yaml throws(ConfigError) in
            guard let value = try yaml.optionalString(name) else { return nil }
            return try YAMLFields.checkURL(value, yaml, name)
        }
    }

    /// A file path that may be absent, relative to the configuration file's directory.
    public static func optionalPath(_ name: String, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "path", defaultText: "none", meaning: meaning)) { yaml throws(ConfigError) in
            try yaml.optionalString(name).map(yaml.resolve)
        }
    }
}

extension Field where Value == Duration {
    /// A duration (`500ms`, `10s`, `5m`, `1h`, `1m30s`) above zero and at most `max`; required
    /// when `fallback` is nil.
    public static func duration(
        _ name: String, default fallback: Duration?, max: Duration = .seconds(86_400), allowZero: Bool = false, _ meaning: String
    ) -> Field {
        Field(
            FieldDescription(
                name: name, type: "duration", defaultText: fallback.map(DurationText.format) ?? "required",
                bounds: "\(allowZero ? "0" : "above 0") to \(DurationText.format(max))", meaning: meaning)
        ) { yaml throws(ConfigError) in
            let value = try yaml.duration(name, default: fallback, max: max)
            if !allowZero, value <= .zero { throw yaml.error(name, "must be more than 0") }
            return value
        }
    }
}

extension Field where Value == Duration? {
    /// A duration that may be absent (nil), above zero and at most `max`.
    public static func optionalDuration(_ name: String, none: String = "none", max: Duration = .seconds(86_400), _ meaning: String) -> Field
    {
        Field(
            FieldDescription(
                name: name, type: "duration", defaultText: none, bounds: "above 0 to \(DurationText.format(max))", meaning: meaning)
        ) { yaml throws(ConfigError) in
            guard yaml.has(name) else { return nil }
            let value = try yaml.duration(name, max: max)
            if value <= .zero { throw yaml.error(name, "must be more than 0") }
            return value
        }
    }
}

extension Field where Value == Int {
    /// A whole number within `range`.
    public static func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>, _ meaning: String) -> Field {
        Field(
            FieldDescription(
                name: name, type: "integer", defaultText: "\(fallback)", bounds: "\(range.lowerBound) to \(range.upperBound)",
                meaning: meaning)
        ) { yaml throws(ConfigError) in
            let value = try yaml.optionalInt(name) ?? fallback
            guard range.contains(value) else { throw yaml.error(name, "must be between \(range.lowerBound) and \(range.upperBound)") }
            return value
        }
    }
}

extension Field where Value == Double {
    /// A number within `range`.
    public static func number(_ name: String, default fallback: Double, in range: ClosedRange<Double>, _ meaning: String) -> Field {
        Field(
            FieldDescription(
                name: name, type: "number", defaultText: YAMLFields.text(fallback),
                bounds: "\(YAMLFields.text(range.lowerBound)) to \(YAMLFields.text(range.upperBound))", meaning: meaning)
        ) { yaml throws(ConfigError) in
            let value = try yaml.optionalDouble(name) ?? fallback
            guard range.contains(value) else {
                throw yaml.error(name, "must be between \(YAMLFields.text(range.lowerBound)) and \(YAMLFields.text(range.upperBound))")
            }
            return value
        }
    }
}

extension Field where Value == Double? {
    /// A number within `range` that may be absent (nil: `none` says what then).
    public static func optionalNumber(_ name: String, none: String = "none", in range: ClosedRange<Double>, _ meaning: String) -> Field {
        Field(
            FieldDescription(
                name: name, type: "number", defaultText: none,
                bounds: "\(YAMLFields.text(range.lowerBound)) to \(YAMLFields.text(range.upperBound))", meaning: meaning)
        ) { yaml throws(ConfigError) in
            guard let value = try yaml.optionalDouble(name) else { return nil }
            guard range.contains(value) else {
                throw yaml.error(name, "must be between \(YAMLFields.text(range.lowerBound)) and \(YAMLFields.text(range.upperBound))")
            }
            return value
        }
    }
}

extension Field where Value == Bool {
    /// `true` or `false`, with a default.
    public static func boolean(_ name: String, default fallback: Bool, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "boolean", defaultText: "\(fallback)", meaning: meaning)) { yaml throws(ConfigError) in
            try yaml.optionalBool(name) ?? fallback
        }
    }

    /// `true` or `false`, required.
    public static func boolean(_ name: String, _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "boolean", defaultText: "required", meaning: meaning)) { yaml throws(ConfigError) in
            guard let value = try yaml.optionalBool(name) else { throw yaml.error(nil, "missing required field \(yaml.fieldPath(name))") }
            return value
        }
    }
}

extension Field where Value == [String]? {
    /// A list of scalars; nil when absent (`none` says what absence means).
    public static func strings(_ name: String, none: String = "none", _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "list of strings", defaultText: none, meaning: meaning)) { yaml throws(ConfigError) in
            try yaml.optionalStrings(name)
        }
    }
}

extension Field where Value == YAMLFields? {
    /// A nested mapping that follows `section`; nil when absent (`none` says what absence means).
    public static func section(
        _ name: String, _ section: ConfigSection, required: Bool = false, none: String = "none", _ meaning: String
    ) -> Field {
        Field(
            FieldDescription(name: name, type: "mapping", defaultText: required ? "required" : none, meaning: meaning, nested: section)
        ) { yaml throws(ConfigError) in
            try yaml.optionalFields(name)?.conform(to: section)
        }
    }
}

extension Field where Value == [YAMLFields] {
    /// A list of mappings, each following `section`; empty when absent.
    public static func list(_ name: String, _ section: ConfigSection, none: String = "none", _ meaning: String) -> Field {
        Field(FieldDescription(name: name, type: "list of mappings", defaultText: none, meaning: meaning, nested: section)) {
            yaml throws(ConfigError) in
            var items: [YAMLFields] = []
            for item in try yaml.optionalList(name) ?? [] { items.append(try item.conform(to: section)) }
            return items
        }
    }
}

extension YAMLFields {
    static func checkChoice(_ value: String, _ choices: [String]?, _ yaml: YAMLFields, _ key: String) throws(ConfigError) -> String {
        if let choices, !choices.contains(value) {
            throw yaml.error(key, "'\(value.prefix(40))' is not one of \(choices.joined(separator: ", "))")
        }
        return value
    }

    static func checkURL(_ value: String, _ yaml: YAMLFields, _ key: String) throws(ConfigError) -> String {
        guard value.hasPrefix("https://") || value.hasPrefix("http://") else {
            throw yaml.error(key, "'\(value.prefix(80))' must start with https:// or http://")
        }
        return value
    }

    /// `text` relative to this file's directory, unless absolute.
    public func resolve(_ text: String) -> String {
        guard let slash = file.lastIndex(of: "/"), !text.hasPrefix("/") else { return text }
        return String(file[...slash]) + text
    }

    /// A number as a person writes it: `4`, not `4.0`.
    static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }
}
