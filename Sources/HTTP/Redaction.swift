import Secrets

/// Keeps credentials out of logs, errors, pages and the journal.
public enum Redaction {
    /// Header names whose values are credentials; also any name containing one of
    /// ``sensitiveHeaderWords`` (`Ocp-Apim-Subscription-Key`, `X-Custom-Token`, …).
    public static let sensitiveHeaders: Set<String> = [
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
        "x-vault-token", "private-token", "job-token", "x-amz-security-token", "x-amz-content-sha256",
        "cookie", "set-cookie",
    ]
    public static let sensitiveHeaderWords = ["key", "token", "secret", "password", "auth", "signature", "session", "credential"]
    public static let mask = Secrets.mask

    public static func isSensitive(header name: String) -> Bool {
        let lower = name.lowercased()
        return sensitiveHeaders.contains(lower) || sensitiveHeaderWords.contains { lower.contains($0) }
    }

    public static func redact(_ headers: [HTTPHeader]) -> [HTTPHeader] {
        headers.map { isSensitive(header: $0.name) ? HTTPHeader($0.name, mask) : $0 }
    }

    /// The URL with credential-bearing query values and any `user:password@` masked.
    public static func redact(url: String) -> String { Secrets.redact(url: url) }

    /// `text` with every occurrence of each secret (at least 4 characters), of every secret the
    /// process knows (``Secrets``), and of credential-shaped text replaced by the mask.
    public static func scrub(_ text: String, secrets: some Sequence<String>) -> String {
        var text = text
        for secret in secrets where secret.count >= 4 {
            text = text.replacing(secret, with: mask)
        }
        return Secrets.scrub(text)
    }
}
