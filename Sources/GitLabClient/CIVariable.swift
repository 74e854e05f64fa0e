/// A project CI/CD variable (`/projects/:id/variables`).
public struct CIVariable: Sendable, Equatable {
    public var key: String
    public var value: String
    public var protected: Bool
    public var masked: Bool
    public var environmentScope: String
    public var description: String?

    public init(key: String, value: String, protected: Bool, masked: Bool, environmentScope: String, description: String? = nil) {
        self.key = key
        self.value = value
        self.protected = protected
        self.masked = masked
        self.environmentScope = environmentScope
        self.description = description
    }
}
