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

    /// The access level of `user` on the deployment project, inherited ones included
    /// (`members/all`): 30 Developer, 40 Maintainer, 50 Owner; 0 when not a member.
    public func accessLevel(of user: Int) async throws(ControlError) -> Int {
        let answer = try await service.call("GET", "\(project)/members/all/\(user)")
        if answer.status == 404 { return 0 }
        guard (200..<300).contains(answer.status), let level = answer.json?["access_level"]?.int else {
            throw .unavailable("members of \(settings.project): HTTP \(answer.status)")
        }
        return level
    }
}
