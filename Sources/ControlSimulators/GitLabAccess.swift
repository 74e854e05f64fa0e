/// Who the simulated GitLab's token is and what its user may do, enforced as GitLab does
/// (DESIGN.md, "Who a retried deploy runs as"): the token's scopes, the user's role per project,
/// a project access token's bot user being a member of its own project only, protected branches
/// of the downstream project and protected environments of the deploy project.
public struct GitLabAccess: Sendable {
    public var active = true
    public var scopes = ["api"]
    public var expiresAt: String?
    public var userID = 4242
    public var username = "failover-agent"
    /// A project (or group) access token: its bot user can be a member of that project only.
    public var bot = false
    /// The role on the deploy project (the security mirror): 10 Guest, 20 Reporter, 30 Developer,
    /// 40 Maintainer, 50 Owner; 0: not a member.
    public var accessLevel = 40
    /// The role on other projects, by id or path (the Runway deployments project, the
    /// change-request project). A project not named: Developer for a person or a service
    /// account, nothing for a bot.
    public var memberships: [String: Int] = [:]
    /// Protected branches: "project|branch" → the least role allowed to merge (and so to run a pipeline on it).
    public var protectedBranches: [String: Int] = [:]
    /// Protected environments of the deploy project: name → the least role allowed to deploy.
    public var protectedEnvironments: [String: Int] = [:]

    public init(
        active: Bool = true, scopes: [String] = ["api"], expiresAt: String? = nil, accessLevel: Int = 40, bot: Bool = false,
        memberships: [String: Int] = [:]
    ) {
        (self.active, self.scopes, self.expiresAt, self.accessLevel, self.bot, self.memberships) = (
            active, scopes, expiresAt, accessLevel, bot, memberships
        )
    }

    /// The user's role on `project` (`home`: the deploy project's id).
    func level(in project: String, home: String) -> Int {
        if project == home { return accessLevel }
        if bot { return 0 }
        return memberships[project] ?? 30
    }

    /// Whether the token's scopes allow `method` (a `read_api` token reads only).
    func allows(_ method: String) -> Bool { scopes.contains("api") || (method == "GET" && scopes.contains("read_api")) }

    /// Why GitLab would fail a trigger job whose downstream pipeline is created as this user on
    /// `branch` of `project`; nil when it may (`read_project`, Developer's `create_pipeline`, and
    /// the right to update a protected branch).
    func bridgeFailure(downstream project: String, branch: String, home: String) -> String? {
        let level = level(in: project, home: home)
        guard level > 0 else { return "downstream_bridge_project_not_found" }
        guard level >= 30, level >= protectedBranches[project + "|" + branch] ?? 0 else { return "insufficient_bridge_permissions" }
        return nil
    }

    /// Whether the user may deploy to `environment` of the deploy project.
    func mayDeploy(to environment: String?) -> Bool {
        guard let environment, let least = protectedEnvironments[environment] else { return true }
        return accessLevel >= least
    }
}
