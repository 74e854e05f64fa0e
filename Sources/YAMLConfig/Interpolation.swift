/// `${NAME}` and `${NAME:-default}` in configuration values, filled from the environment.
public enum Interpolation {
    /// `text` with every reference replaced. A variable that is unset (and has no default) is an
    /// error naming it; `$$` stands for a literal `$`.
    public static func expand(_ text: String, environment: [String: String]) throws(Missing) -> String {
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.first == "$" {
                out += "$"
                rest = after.dropFirst()
            } else if after.first == "{", let close = after.firstIndex(of: "}") {
                let inner = after[after.index(after: after.startIndex)..<close]
                let parts = inner.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                guard isName(name) else { throw Missing(name: name, malformed: true) }
                if let value = environment[name] {
                    out += value
                } else if parts.count == 2 {
                    out += parts[1]
                } else {
                    throw Missing(name: name, malformed: false)
                }
                rest = after[after.index(after: close)...]
            } else {
                out += "$"
                rest = after
            }
        }
        return out + rest
    }

    public struct Missing: Error, Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var malformed: Bool
        public var description: String {
            malformed ? "malformed variable reference ${\(name)}" : "environment variable \(name) is not set"
        }
    }

    private static func isName(_ name: String) -> Bool {
        guard let first = name.first, first == "_" || first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
