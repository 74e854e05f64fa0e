import ControlAPI

/// What the configured token is and may do, read without a write (the readiness checks).
public struct GitLabToken: Sendable, Equatable {
    public var active: Bool
    public var scopes: [String]
    /// `YYYY-MM-DD`; nil: it never expires.
    public var expiresAt: String?
    public var userID: Int

    public init(active: Bool, scopes: [String], expiresAt: String?, userID: Int) {
        (self.active, self.scopes, self.expiresAt, self.userID) = (active, scopes, expiresAt, userID)
    }
}

extension GitLab {
    /// The token itself: `GET /personal_access_tokens/self` (personal, project and group access tokens).
    public func tokenSelf() async throws(ControlError) -> GitLabToken {
        let answer = try await get("/personal_access_tokens/self")
        guard let json = answer.json, let user = json["user_id"]?.int else {
            throw .malformed("personal_access_tokens/self: no user_id")
        }
        return GitLabToken(
            active: json["active"]?.bool ?? false, scopes: json["scopes"]?.array?.compactMap(\.string) ?? [],
            expiresAt: json["expires_at"]?.string, userID: user)
    }

    /// The token's user: `GET /user`. A project or group access token's user is a bot.
    public func currentUser() async throws(ControlError) -> (id: Int, username: String, bot: Bool) {
        let answer = try await get("/user")
        guard let json = answer.json, let id = json["id"]?.int else { throw .malformed("user: no id") }
        return (id, json["username"]?.string ?? "?", json["bot"]?.bool ?? false)
    }

    /// The access level of `user` on `project` (default: the deploy project), inherited ones
    /// included (`members/all`): 10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner; 0
    /// when not a member (or the project is hidden from the user).
    public func accessLevel(of user: Int, in project: String? = nil) async throws(ControlError) -> Int {
        let project = project ?? settings.project
        let answer = try await service.call("GET", "/projects/\(escape(project))/members/all/\(user)")
        if answer.status == 404 { return 0 }
        guard (200..<300).contains(answer.status), let level = answer.json?["access_level"]?.int else {
            throw .unavailable("members of \(project): HTTP \(answer.status)")
        }
        return level
    }

    /// The least role allowed to merge into (so to run a pipeline on) `branch` of `project`; nil when it is not protected.
    /// A rule for named users or groups only counts as "no role" (60).
    public func protectedBranch(_ branch: String, in project: String) async throws(ControlError) -> Int? {
        try await leastLevel(
            "/projects/\(escape(project))/protected_branches/\(escape(branch))", ["merge_access_levels", "push_access_levels"])
    }

    /// The least role allowed to deploy to `environment` of the deploy project; nil when it is not protected.
    public func protectedEnvironment(_ environment: String) async throws(ControlError) -> Int? {
        try await leastLevel("\(project)/protected_environments/\(escape(environment))", ["deploy_access_levels"])
    }

    /// The branch a pipeline of `project` runs on.
    public func pipelineRef(_ pipeline: Int, in project: String) async throws(ControlError) -> String {
        let answer = try await get("/projects/\(escape(project))/pipelines/\(pipeline)")
        guard let ref = answer.json?["ref"]?.string else { throw .malformed("pipeline \(pipeline) of \(project) has no ref") }
        return ref
    }

    private func leastLevel(_ path: String, _ lists: [String]) async throws(ControlError) -> Int? {
        let answer = try await service.call("GET", path)
        if answer.status == 404 { return nil }
        guard (200..<300).contains(answer.status) else { throw .unavailable("GET \(path): HTTP \(answer.status)") }
        let levels = lists.flatMap { answer.json?[$0]?.array ?? [] }.compactMap { $0["access_level"]?.int }.filter { $0 > 0 }
        return levels.min() ?? 60
    }
}
