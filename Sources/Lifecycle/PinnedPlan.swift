/// What a person approved, pinned: the action writes exactly this, planned from this secret
/// version and deploying this SHA, or writes nothing.
public struct PinnedPlan: Sendable, Equatable {
    /// The value the configured key is to hold ("" when the key is removed).
    public var intended: String
    public var secretVersion: Int
    /// The pipeline SHA it redeploys; nil for a restore that leaves the deploy to the next deployment.
    public var sha: String?

    public init(intended: String, secretVersion: Int, sha: String?) {
        (self.intended, self.secretVersion, self.sha) = (intended, secretVersion, sha)
    }
}
