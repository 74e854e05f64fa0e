import ControlAPI
import Secrets

/// Where change requests go (`targets[].change_request`): a GitLab issue per failover, in
/// `project` on the target's GitLab, with its token.
public struct ChangeRequestSettings: Sendable, Equatable {
    public var project: String
    public var labels: [String]
    public var confidential: Bool

    /// The same, labelled as a fire drill (`failover-agent::drill`).
    public var drill: ChangeRequestSettings {
        ChangeRequestSettings(project: project, labels: labels + ["failover-agent::drill"], confidential: confidential)
    }

    public init(project: String, labels: [String] = [], confidential: Bool = false) {
        self.project = project
        self.labels = labels
        self.confidential = confidential
    }
}

/// The mark the agent leaves in an issue or a note it posts, so that one whose answer was lost is
/// found again rather than posted twice: an HTML comment (invisible in GitLab) naming the action.
public struct PostMarker: Sendable, Equatable {
    public let text: String

    /// The mark of an issue opened by action `action` (an id unique to the action, kept across restarts).
    public static func issue(action: String) -> PostMarker { PostMarker(text: "failover-agent-action-\(action)") }

    /// The mark of every change request of one incident: `provider` failing on `target`. An open
    /// one is carried on in by whichever replica fails over next, so an incident has one.
    public static func incident(target: String, provider: String, drill: Bool = false) -> PostMarker {
        PostMarker(text: "failover-agent-\(drill ? "drill" : "incident")-\(target)-\(provider)")
    }

    /// The mark of a note of action `action` with this text: the same note of the same action has the same mark.
    public static func note(action: String, text: String) -> PostMarker {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return PostMarker(text: "failover-agent-note-\(action)-" + String(hash, radix: 16))
    }

    /// What is appended to the body.
    public var comment: String { "\n\n<!-- \(text) -->" }
}

extension GitLab {
    /// Opens an issue in `settings.project` exactly once (``sendOnce``): its description carries
    /// `marker`, and a lost answer is settled by searching the project's issues for it. Returns its iid.
    public func openIssue(
        _ settings: ChangeRequestSettings, title: String, description: String, marker: PostMarker,
        settled: (Settlement) async -> Void = { _ in }
    ) async throws(ControlError) -> Int {
        try await sendOnce(
            "opening of a change request in \(settings.project)",
            send: { () async throws(ControlError) -> Int in
                try await openIssue(settings, title: title, description: description + marker.comment)
            },
            find: { () async throws(ControlError) -> Int? in try await findIssue(settings, marker: marker) },
            describe: { "issue #\($0)" }, settled: settled)
    }

    /// The issue of `settings.project` whose description carries `marker`, if any (`openOnly`: an open one).
    public func findIssue(_ settings: ChangeRequestSettings, marker: PostMarker, openOnly: Bool = false) async throws(ControlError) -> Int?
    {
        let answer = try await get(
            "/projects/\(escape(settings.project))/issues?search=\(escape(marker.text))&in=description&per_page=100"
                + (openOnly ? "&state=opened" : ""))
        return answer.json?.array?.first { $0["description"]?.string?.contains(marker.comment) == true }?["iid"]?.int
    }

    /// Adds a comment to issue `iid` exactly once (``sendOnce``): it carries a mark made of
    /// `action` and its text, and a lost answer is settled by reading the issue's notes.
    /// `resumed`: the action ran before a restart, which may have posted it already: looked for first.
    public func note(
        _ settings: ChangeRequestSettings, issue iid: Int, _ text: String, action: String, resumed: Bool = false,
        settled: (Settlement) async -> Void = { _ in }
    ) async throws(ControlError) {
        let marker = PostMarker.note(action: action, text: text)
        let find = { () async throws(ControlError) -> Bool? in
            let answer = try await get(
                "/projects/\(escape(settings.project))/issues/\(iid)/notes?sort=desc&order_by=created_at&per_page=100")
            return answer.json?.array?.contains { $0["body"]?.string?.contains(marker.comment) == true } == true ? true : nil
        }
        if resumed, try await find() == true { return }
        _ = try await sendOnce(
            "note on issue #\(iid) in \(settings.project)",
            send: { () async throws(ControlError) -> Bool in
                try await note(settings, issue: iid, text + marker.comment)
                return true
            },
            find: find, describe: { _ in "the note is there" }, settled: settled)
    }

    /// Opens an issue in `settings.project`; returns its iid. A lost answer is ``ControlError/unknownOutcome(_:)``.
    func openIssue(_ settings: ChangeRequestSettings, title: String, description: String) async throws(ControlError) -> Int {
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

    /// Adds a comment to issue `iid`. A lost answer is ``ControlError/unknownOutcome(_:)``.
    func note(_ settings: ChangeRequestSettings, issue iid: Int, _ text: String) async throws(ControlError) {
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
