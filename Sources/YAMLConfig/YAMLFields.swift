import Foundation
import Yams

/// A YAML mapping read field by field; every error names the file, line and dotted field path.
public struct YAMLFields {
    public let file: String
    public let path: String
    private let mapping: Node.Mapping
    private let line: Int?
    /// The section this mapping was checked against (``conform(to:)``); fields read from it must be declared there.
    public internal(set) var section: ConfigSection?

    /// The largest file any loader reads (the gateway's models.yml is about 30 KB).
    public static let maxFileBytes = 4 << 20

    /// Reads and parses `file` (at most ``maxFileBytes``); its top level must be a mapping.
    public static func load(file: String) throws(ConfigError) -> YAMLFields {
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        guard size <= maxFileBytes else {
            throw ConfigError(file: file, field: "", problem: "the file is \(size >> 20) MiB; at most \(maxFileBytes >> 20) MiB is read")
        }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError(file: file, field: "", problem: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(text, file: file)
    }

    /// Parses `text` as if read from `file`.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLFields {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ConfigError(file: file, field: "", problem: "not valid YAML: \(error)")
        }
        guard let node, let mapping = node.mapping else {
            throw ConfigError(file: file, line: node?.mark?.line, field: "", problem: "expected a mapping at the top level")
        }
        return YAMLFields(file: file, path: "", mapping: mapping, line: node.mark?.line)
    }

    private init(file: String, path: String, mapping: Node.Mapping, line: Int?) {
        self.file = file
        self.path = path
        self.mapping = mapping
        self.line = line
    }

    /// The keys present, in file order.
    public var keys: [String] { mapping.keys.compactMap(\.string) }

    public func has(_ key: String) -> Bool { mapping[key] != nil }

    /// Whether the value at `key` is a mapping (not a list or a scalar).
    public func holdsMapping(_ key: String) -> Bool { mapping[key]?.mapping != nil }

    /// An error about `key` (or about this mapping when `key` is nil), at its line.
    public func error(_ key: String?, _ problem: String) -> ConfigError {
        let node = key.flatMap { mapping[$0] }
        return ConfigError(file: file, line: node?.mark?.line ?? line, field: key.map(fieldPath) ?? path, problem: problem)
    }

    public func string(_ key: String) throws(ConfigError) -> String {
        guard let value = try optionalString(key) else { throw error(nil, "missing required field \(fieldPath(key))") }
        return value
    }

    public func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard let node = mapping[key] else { return nil }
        guard let scalar = node.scalar else { throw error(key, "expected a single value") }
        return scalar.string
    }

    /// A duration field, at most `max` (every field has a bound; the default is a day).
    public func duration(_ key: String, default fallback: Duration? = nil, max: Duration = .seconds(86_400)) throws(ConfigError) -> Duration
    {
        guard let text = try optionalString(key) else {
            if let fallback { return fallback }
            throw error(nil, "missing required field \(fieldPath(key))")
        }
        guard let seconds = DurationText.seconds(text) else {
            throw error(key, "'\(text.prefix(40))' is not a duration (write e.g. 500ms, 10s, 5m, 1h)")
        }
        guard seconds <= max.seconds, let value = DurationText.parse(text) else {
            throw error(key, "\(text.prefix(40)) is too long: at most \(DurationText.format(max))")
        }
        return value
    }

    public func optionalDouble(_ key: String) throws(ConfigError) -> Double? {
        guard let text = try optionalString(key) else { return nil }
        guard let value = Double(text), value.isFinite else { throw error(key, "'\(text)' is not a number") }
        return value
    }

    public func optionalInt(_ key: String) throws(ConfigError) -> Int? {
        guard let text = try optionalString(key) else { return nil }
        guard let value = Int(text) else { throw error(key, "'\(text)' is not a whole number") }
        return value
    }

    public func optionalBool(_ key: String) throws(ConfigError) -> Bool? {
        guard let text = try optionalString(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "'\(text)' is not true or false")
        }
    }

    /// A nested mapping, or nil when absent.
    public func optionalFields(_ key: String) throws(ConfigError) -> YAMLFields? {
        guard let node = mapping[key] else { return nil }
        guard let nested = node.mapping else { throw error(key, "expected a mapping") }
        return YAMLFields(file: file, path: fieldPath(key), mapping: nested, line: node.mark?.line)
    }

    /// A list of scalars.
    public func optionalStrings(_ key: String) throws(ConfigError) -> [String]? {
        guard let node = mapping[key] else { return nil }
        guard let sequence = node.sequence else { throw error(key, "expected a list") }
        var values: [String] = []
        for (index, item) in sequence.enumerated() {
            guard let scalar = item.scalar else {
                throw ConfigError(
                    file: file, line: item.mark?.line, field: "\(fieldPath(key))[\(index)]", problem: "expected a single value")
            }
            values.append(scalar.string)
        }
        return values
    }

    /// A list of mappings.
    public func optionalList(_ key: String) throws(ConfigError) -> [YAMLFields]? {
        guard let node = mapping[key] else { return nil }
        guard let sequence = node.sequence else { throw error(key, "expected a list") }
        var items: [YAMLFields] = []
        for (index, item) in sequence.enumerated() {
            guard let nested = item.mapping else {
                throw ConfigError(file: file, line: item.mark?.line, field: "\(fieldPath(key))[\(index)]", problem: "expected a mapping")
            }
            items.append(YAMLFields(file: file, path: "\(fieldPath(key))[\(index)]", mapping: nested, line: item.mark?.line))
        }
        return items
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
