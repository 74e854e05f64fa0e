import ControlAPI

/// What the agent writes in the description of the `RUNWAY_DEPLOYMENT_STRATEGY` variable it set:
/// the targets that need it (one project's pipeline deploys several services, and the variable
/// is the project's), and what the variable was before, if it existed with another value. The
/// last holder's restore puts back exactly that: deleted, or its old value and description.
/// A variable without this mark is a person's and is never touched.
public struct ExpeditedMark: Sendable, Equatable {
    public var holders: [String]
    /// The value and description before the agent changed it; nil: the agent created it.
    public var was: (value: String, description: String?)?

    public init(holders: [String], was: (value: String, description: String?)? = nil) {
        self.holders = holders
        self.was = was
    }

    static let prefix = "failover-agent: expedited for "

    /// The description to store (GitLab keeps at most 255 characters: an old description that
    /// does not fit is cut).
    public var description: String {
        var object: [String: JSONValue] = ["holders": .array(holders.map { .string($0) })]
        if let was {
            object["was"] = .object(["value": .string(was.value), "description": was.description.map { .string($0) } ?? .null])
        }
        var text = Self.prefix + String(decoding: JSONValue.object(object).bytes, as: UTF8.self)
        if text.count > 255, let old = was?.description {
            var shorter = self
            shorter.was = (was!.value, String(old.prefix(max(0, old.count - (text.count - 255)))))
            text = shorter.description
        }
        return text
    }

    /// The mark in a variable's description; nil when it is not the agent's.
    public init?(description: String?) {
        guard let description, description.hasPrefix(Self.prefix),
            let json = JSONValue.parse(Array(description.dropFirst(Self.prefix.count).utf8)),
            let holders = json["holders"]?.array?.compactMap(\.string)
        else { return nil }
        self.holders = holders
        if let was = json["was"], let value = was["value"]?.string { self.was = (value, was["description"]?.string) }
    }

    public static func == (a: ExpeditedMark, b: ExpeditedMark) -> Bool {
        a.holders == b.holders && a.was?.value == b.was?.value && a.was?.description == b.was?.description
    }
}
