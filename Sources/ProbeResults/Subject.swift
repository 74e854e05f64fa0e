/// What a probe speaks for, a health verdict judges and an action fails over: a whole provider
/// (`anthropic`) or one model on it (`anthropic/claude_haiku_4_5_anthropic`, by the model's
/// `gitlab_identifier`). Kept as a string, so pages, the journal and ownership records name it as is.
public enum Subject {
    /// `provider`, or `provider/model` when the subject is one model.
    public static func key(provider: String, model: String?) -> String {
        model.map { "\(provider)/\($0)" } ?? provider
    }

    /// The provider a subject is on.
    public static func provider(_ subject: String) -> String {
        subject.firstIndex(of: "/").map { String(subject[..<$0]) } ?? subject
    }

    /// The model a subject is about; nil for a whole provider.
    public static func model(_ subject: String) -> String? {
        subject.firstIndex(of: "/").map { String(subject[subject.index(after: $0)...]) }
    }
}
