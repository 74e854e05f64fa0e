/// Something a person should hear about. `resolve` closes the page with the same `dedupKey`.
public struct Alert: Sendable, Equatable {
    public enum Severity: String, Sendable { case critical, error, warning, info }
    public var dedupKey: String
    public var summary: String
    public var severity: Severity
    public var resolve: Bool

    public init(dedupKey: String, summary: String, severity: Severity = .error, resolve: Bool = false) {
        self.dedupKey = dedupKey
        self.summary = summary
        self.severity = severity
        self.resolve = resolve
    }
}
