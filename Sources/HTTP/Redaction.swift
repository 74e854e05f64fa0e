/// Keeps credentials out of logs, errors, pages and the journal.
public enum Redaction {
    /// Header names whose values are credentials.
    public static let sensitiveHeaders: Set<String> = [
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
        "x-vault-token", "private-token", "job-token", "x-amz-security-token", "x-amz-content-sha256",
        "cookie", "set-cookie",
    ]
    /// Query parameters whose values are credentials (signed URLs, API keys).
    public static let sensitiveQueryParameters: Set<String> = [
        "key", "api_key", "apikey", "token", "access_token", "sig", "signature",
        "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    ]
    public static let mask = "[redacted]"

    public static func isSensitive(header name: String) -> Bool {
        sensitiveHeaders.contains(name.lowercased())
    }

    public static func redact(_ headers: [HTTPHeader]) -> [HTTPHeader] {
        headers.map { isSensitive(header: $0.name) ? HTTPHeader($0.name, mask) : $0 }
    }

    /// The URL with credential-bearing query values and any `user:password@` masked.
    public static func redact(url: String) -> String {
        var url = url
        if let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") {
            let authority = url.index(colon, offsetBy: 3)
            if let at = url[authority...].firstIndex(of: "@"), !url[authority..<at].contains("/") {
                url.replaceSubrange(authority..<at, with: mask)
            }
        }
        guard let question = url.firstIndex(of: "?") else { return url }
        let query = url[url.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map {
            pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, sensitiveQueryParameters.contains(parts[0].lowercased()) else { return String(pair) }
            return "\(parts[0])=\(mask)"
        }
        return url[...question] + query.joined(separator: "&")
    }

    /// `text` with every occurrence of each secret (at least 4 characters) replaced by the mask.
    public static func scrub(_ text: String, secrets: some Sequence<String>) -> String {
        var text = text
        for secret in secrets where secret.count >= 4 {
            text = text.replacing(secret, with: mask)
        }
        return text
    }
}
