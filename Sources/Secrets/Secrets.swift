import Synchronization

/// Every credential the process knows, registered where it is read (tokens from the environment
/// or a file, probe credentials, fetched Google tokens, pager keys and webhook URLs), and the one
/// scrubber that every outgoing text goes through: logs, pages, the journal, CLI output, the API.
public enum Secrets {
    public static let mask = "[redacted]"
    /// Query parameters whose values are credentials (signed URLs, API keys).
    public static let sensitiveQueryParameters: Set<String> = [
        "key", "api_key", "apikey", "token", "access_token", "sig", "signature",
        "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    ]
    private static let known = Mutex<Set<String>>([])

    /// Remembers `values` (shorter than 4 characters: ignored), with the forms they are echoed in:
    /// a bearer value without its scheme, percent-encoded, JSON-escaped.
    public static func register(_ values: some Sequence<String>) {
        var forms: Set<String> = []
        for value in values where value.count >= 4 {
            forms.insert(value)
            if let tail = value.split(separator: " ", maxSplits: 1).dropFirst().first, tail.count >= 8 { forms.insert(String(tail)) }
            forms.insert(percentEncoded(value))
            forms.insert(value.replacing("/", with: "\\/"))
        }
        known.withLock { $0.formUnion(forms) }
    }

    public static func register(_ value: String) { register([value]) }

    /// The values of credential query parameters (`key=`, `sig=`, …) in `url`.
    public static func credentialQueryValues(in url: String) -> [String] {
        guard let question = url.firstIndex(of: "?") else { return [] }
        return url[url.index(after: question)...].split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return parts.count == 2 && sensitiveQueryParameters.contains(parts[0].lowercased()) ? String(parts[1]) : nil
        }
    }

    /// `text` with every known secret masked (longest first), then credential-shaped URLs
    /// (``redact(url:)`` and webhook paths) and well-known token shapes.
    public static func scrub(_ text: String) -> String {
        let secrets = known.withLock { $0 }.sorted { $0.count > $1.count }
        var text = text
        for secret in secrets where text.contains(secret) { text = text.replacing(secret, with: mask) }
        return scrubShapes(text)
    }

    private static func percentEncoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            let c = Unicode.Scalar(byte)
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-_.~".unicodeScalars.contains(c)
            {
                out.unicodeScalars.append(c)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// The URL with credential-bearing query values, any `user:password@`, and the credential part
    /// of a webhook path (`…/services/…`, `…/hooks/…`) masked.
    public static func redact(url: String) -> String {
        var url = url
        if let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") {
            let authority = url.index(colon, offsetBy: 3)
            if let at = url[authority...].firstIndex(of: "@"), !url[authority..<at].contains("/") {
                url.replaceSubrange(authority..<at, with: mask)
            }
        }
        for marker in ["/services/", "/hooks/", "/webhook/", "/webhooks/"] {
            if let range = url.firstRange(of: marker), range.upperBound < url.endIndex { return url[..<range.upperBound] + mask }
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

    /// Token prefixes of well-known credentials: GitLab, Vault, Anthropic/OpenAI, Slack, Google, AWS.
    static let tokenPrefixes = ["glpat-", "gldt-", "glrt-", "hvs.", "hvb.", "hvr.", "sk-", "xoxb-", "xoxp-", "ya29.", "AKIA", "ASIA"]

    /// Credential shapes in free text: URLs (user:password@, credential query values, webhook
    /// paths such as Slack's `/services/…`), and tokens with a well-known prefix.
    static func scrubShapes(_ text: String) -> String {
        guard text.contains("://") || tokenPrefixes.contains(where: text.contains) else { return text }
        var out = ""
        var word = ""
        func flush() {
            out += scrubWord(word)
            word = ""
        }
        for character in text {
            if character.isWhitespace || "\"'<>()[]{},`".contains(character) {
                flush()
                out.append(character)
            } else {
                word.append(character)
            }
        }
        flush()
        return out
    }

    private static func scrubWord(_ word: String) -> String {
        if word.contains("://") { return redact(url: word) }
        for prefix in tokenPrefixes {
            guard let range = word.firstRange(of: prefix),
                range.lowerBound == word.startIndex
                    || !word[word.index(before: range.lowerBound)].isLetter && !word[word.index(before: range.lowerBound)].isNumber
            else { continue }
            let tail = word[range.upperBound...].prefix { $0.isLetter || $0.isNumber || "-_.".contains($0) }
            if tail.count >= 12 { return word[..<range.lowerBound] + mask + word[range.upperBound...].dropFirst(tail.count) }
        }
        return word
    }
}
