import ControlAPI
import HTTPServer

/// The read-only calls that tell who the token is and what its user may do: the token itself,
/// the user, effective roles, protected branches and environments (GitLab's REST shapes).
extension GitLabSimulator {
    static func whoAmI(_ request: ServerRequest, parts: [String], state: State, home: String) -> ServerReply? {
        guard request.method == "GET", parts.count >= 3, parts[0] == "api", parts[1] == "v4" else { return nil }
        let access = state.access
        let notFound = ServerReply.json(404, .object(["message": .string("404 Not found")]))
        switch Array(parts.dropFirst(2)) {
        case ["personal_access_tokens", "self"]:
            return .json(
                200,
                .object([
                    "id": .number(7), "name": .string("failover-agent"), "active": .bool(access.active), "revoked": .bool(!access.active),
                    "scopes": .array(access.scopes.map { .string($0) }), "user_id": .number(Double(access.userID)),
                    "expires_at": access.expiresAt.map { .string($0) } ?? .null,
                ]))
        case ["user"]:
            return .json(
                200,
                .object([
                    "id": .number(Double(access.userID)), "username": .string(access.username), "bot": .bool(access.bot),
                    "state": .string("active"),
                ]))
        case let rest where rest.count == 5 && rest[0] == "projects" && rest[2] == "members" && rest[3] == "all":
            let level = access.level(in: rest[1], home: home)
            guard Int(rest[4]) == access.userID, level > 0 else { return notFound }
            return .json(200, .object(["id": .number(Double(access.userID)), "access_level": .number(Double(level))]))
        case let rest where rest.count == 4 && rest[0] == "projects" && rest[2] == "protected_branches":
            guard access.level(in: rest[1], home: home) > 0, let least = access.protectedBranches[rest[1] + "|" + rest[3]] else {
                return notFound
            }
            let levels = JSONValue.array([.object(["access_level": .number(Double(least))])])
            return .json(
                200, .object(["name": .string(rest[3]), "push_access_levels": levels, "merge_access_levels": levels]))
        case let rest where rest.count == 4 && rest[0] == "projects" && rest[1] == home && rest[2] == "protected_environments":
            guard let least = access.protectedEnvironments[rest[3]] else { return notFound }
            return .json(
                200,
                .object([
                    "name": .string(rest[3]), "deploy_access_levels": .array([.object(["access_level": .number(Double(least))])]),
                ]))
        default:
            return nil
        }
    }
}
