import ProbeResults

/// The value of `AIGW_MODEL_SELECTION__DEFAULT_MODELS`: `{"<feature_setting>": ["<model_id>", …]}`,
/// keys in the order they were written (so a write changes only what it must).
public struct ModelOverride: Sendable, Equatable {
    public private(set) var entries: [(feature: String, models: [String])]
    /// Feature → index in `entries`, so lookups stay constant-time on secrets with thousands of keys.
    private var index: [String: Int]

    public init(_ entries: [(feature: String, models: [String])] = []) {
        self.entries = entries
        index = Dictionary(entries.enumerated().map { ($1.feature, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public static func == (a: ModelOverride, b: ModelOverride) -> Bool {
        a.entries.map(\.feature) == b.entries.map(\.feature) && a.entries.map(\.models) == b.entries.map(\.models)
    }

    public subscript(feature: String) -> [String]? {
        get { index[feature].map { entries[$0].models } }
        set {
            switch (index[feature], newValue) {
            case (let at?, let models?): entries[at].models = models
            case (let at?, nil):
                entries.remove(at: at)
                index = Dictionary(entries.enumerated().map { ($1.feature, $0) }, uniquingKeysWith: { first, _ in first })
            case (nil, let models?):
                index[feature] = entries.count
                entries.append((feature, models))
            case (nil, nil): break
            }
        }
    }

    public var features: [String] { entries.map(\.feature) }

    /// Compact JSON, keys in order: what the agent writes.
    public var json: String {
        "{"
            + entries.map { entry in
                JSONText.quote(entry.feature) + ":[" + entry.models.map(JSONText.quote).joined(separator: ",") + "]"
            }.joined(separator: ",") + "}"
    }

    /// Parses the variable's value. An empty value is an empty override; anything that is not a JSON
    /// object of string arrays (which would stop the gateway from starting) is an error naming where.
    public static func parse(_ text: String) throws(Malformed) -> ModelOverride {
        var parser = OverrideParser(text: Array(text.utf8))
        return try parser.parse()
    }

    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public var offset: Int
        public var problem: String
        public var description: String { "malformed override JSON at byte \(offset): \(problem)" }
    }
}

/// A strict reader of exactly the override's shape.
struct OverrideParser {
    let text: [UInt8]
    var at = 0

    mutating func parse() throws(ModelOverride.Malformed) -> ModelOverride {
        skipSpace()
        if at == text.count { return ModelOverride() }
        try expect(UInt8(ascii: "{"))
        var override = ModelOverride()
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            at += 1
        } else {
            while true {
                skipSpace()
                let feature = try string()
                if override[feature] != nil { throw fail("key \"\(feature)\" appears twice") }
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                try expect(UInt8(ascii: "["), "the value of \"\(feature)\" must be a list of model ids")
                var models: [String] = []
                skipSpace()
                if peek() == UInt8(ascii: "]") {
                    at += 1
                } else {
                    while true {
                        skipSpace()
                        models.append(try string())
                        skipSpace()
                        if peek() == UInt8(ascii: ",") {
                            at += 1
                            continue
                        }
                        try expect(UInt8(ascii: "]"))
                        break
                    }
                }
                override[feature] = models
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    at += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skipSpace()
        guard at == text.count else { throw fail("unexpected text after the object") }
        return override
    }

    private func peek() -> UInt8? { at < text.count ? text[at] : nil }

    private mutating func skipSpace() {
        while let c = peek(), c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { at += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ problem: String? = nil) throws(ModelOverride.Malformed) {
        guard peek() == byte else { throw fail(problem ?? "expected '\(Character(Unicode.Scalar(byte)))'") }
        at += 1
    }

    private func fail(_ problem: String) -> ModelOverride.Malformed { ModelOverride.Malformed(offset: at, problem: problem) }

    private mutating func string() throws(ModelOverride.Malformed) -> String {
        try expect(UInt8(ascii: "\""), "expected a string")
        var bytes: [UInt8] = []
        while let c = peek() {
            at += 1
            switch c {
            case UInt8(ascii: "\""): return String(decoding: bytes, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = peek() else { break }
                at += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escaped)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                default: throw fail("unsupported escape in a string")
                }
            case 0..<0x20: throw fail("control character in a string")
            default: bytes.append(c)
            }
        }
        throw fail("unterminated string")
    }
}
