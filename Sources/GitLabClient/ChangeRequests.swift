import ControlAPI
import Secrets

/// Where change requests go (`targets[].change_request`): a GitLab issue per failover, in
/// `project` on the target's GitLab, with its token.
public struct ChangeRequestSettings: Sendable, Equatable {
    public var project: String
    public var labels: [String]
    public var confidential: Bool

    public init(project: String, labels: [String] = [], confidential: Bool = false) {
        self.project = project
        self.labels = labels
        self.confidential = confidential
    }
}

extension GitLab {
    /// Opens an issue in `settings.project`; returns its iid.
    public func openIssue(_ settings: ChangeRequestSettings, title: String, description: String) async throws(ControlError) -> Int {
        // Change requests are read widely: every credential the process knows is scrubbed from them.
        var body: [String: JSONValue] = [
            "title": .string(Secrets.scrub(title)), "description": .string(Secrets.scrub(description)),
            "confidential": .bool(settings.confidential),
        ]
        if !settings.labels.isEmpty { body["labels"] = .string(settings.labels.joined(separator: ",")) }
        let answer = try await call(
            "POST", "/projects/\(escape(settings.project))/issues", body: .object(body), "open a change request issue")
        guard let iid = answer.json?["iid"]?.int else { throw .malformed("the new issue has no iid") }
        return iid
    }

    /// Adds a comment to issue `iid`.
    public func note(_ settings: ChangeRequestSettings, issue iid: Int, _ text: String) async throws(ControlError) {
        _ = try await call(
            "POST", "/projects/\(escape(settings.project))/issues/\(iid)/notes", body: .object(["body": .string(Secrets.scrub(text))]),
            "comment on issue \(iid)")
    }

    /// Closes issue `iid` (already closed is fine).
    public func closeIssue(_ settings: ChangeRequestSettings, issue iid: Int) async throws(ControlError) {
        _ = try await call(
            "PUT", "/projects/\(escape(settings.project))/issues/\(iid)", body: .object(["state_event": .string("close")]),
            "close issue \(iid)")
    }
}
