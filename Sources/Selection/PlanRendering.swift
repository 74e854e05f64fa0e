import ProbeResults

extension Plan {
    /// A readable diff for people: one block per changed feature, then what stays and why.
    public func diff(target: String) -> String {
        var lines = ["target \(target): failing \(failing.isEmpty ? "none" : failing.joined(separator: ", "))"]
        if changes.isEmpty { lines.append("  no change") }
        for change in changes {
            let was = change.before.map { "override \(list($0))" } ?? "default_models \(list(change.effectiveBefore))"
            lines.append("  \(change.feature):")
            lines.append("    - \(was)")
            lines.append(change.after.map { "    + override \(list($0))" } ?? "    + no override: default_models apply again")
            lines.append("      \(change.reason)")
        }
        for item in untouched { lines.append("  ! \(item.feature) left unchanged: \(item.reason)") }
        for tag in taggedOnFailing {
            lines.append("  ! \(tag.feature) models_for_tags.\(tag.tag) stays on \(tag.model) (the override cannot change tags)")
        }
        return lines.joined(separator: "\n")
    }

    /// The plan as one JSON object.
    public func json(target: String) -> String {
        let changeList = changes.map { change in
            #"{"feature":\#(JSONText.quote(change.feature)),"before":\#(change.before.map(list) ?? "null"),"#
                + #""effective_before":\#(list(change.effectiveBefore)),"after":\#(change.after.map(list) ?? "null"),"#
                + #""reason":\#(JSONText.quote(change.reason))}"#
        }
        let untouchedList = untouched.map { #"{"feature":\#(JSONText.quote($0.feature)),"reason":\#(JSONText.quote($0.reason))}"# }
        let tagList = taggedOnFailing.map {
            #"{"feature":\#(JSONText.quote($0.feature)),"tag":\#(JSONText.quote($0.tag)),"model":\#(JSONText.quote($0.model))}"#
        }
        return
            #"{"target":\#(JSONText.quote(target)),"failing":\#(list(failing)),"changes":[\#(changeList.joined(separator: ","))],"#
            + #""untouched":[\#(untouchedList.joined(separator: ","))],"tagged_on_failing":[\#(tagList.joined(separator: ","))],"#
            + #""override":\#(override.json)}"#
    }

    private func list(_ items: [String]) -> String { "[" + items.map(JSONText.quote).joined(separator: ",") + "]" }
}
