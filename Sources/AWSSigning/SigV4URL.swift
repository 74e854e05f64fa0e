/// The parts of an `http(s)` URL that a signature covers, and the URL as it goes on the wire.
struct SigV4URL {
    var scheme: String
    var authority: String
    /// `host[:port]`, the port left out when it is the scheme's default.
    var hostHeader: String
    var path: String
    var query: String

    init(_ url: String) throws(SigV4Error) {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else {
            throw SigV4Error(description: "not an absolute URL: cannot sign it")
        }
        scheme = url[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else { throw SigV4Error(description: "only http and https URLs can be signed") }
        var rest = url[url.index(colon, offsetBy: 3)...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        authority = String(rest[..<authorityEnd])
        guard !authority.contains("@") else { throw SigV4Error(description: "a signed URL cannot carry user:password@") }
        guard !authority.isEmpty else { throw SigV4Error(description: "the URL has no host") }
        let afterAuthority = rest[authorityEnd...]
        if let mark = afterAuthority.firstIndex(of: "?") {
            path = String(afterAuthority[..<mark])
            query = String(afterAuthority[afterAuthority.index(after: mark)...])
        } else {
            path = String(afterAuthority)
            query = ""
        }
        if path.isEmpty { path = "/" }
        let defaultPort = scheme == "https" ? ":443" : ":80"
        let lowered = authority.lowercased()
        hostHeader = lowered.hasSuffix(defaultPort) ? String(lowered.dropLast(defaultPort.count)) : lowered
    }

    /// The path for the wire: each segment decoded, then encoded once; for every service but S3 also
    /// normalized as AWS does.
    func wirePath(normalize: Bool) -> String {
        let path = normalize ? Self.normalize(path) : path
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { SigV4Encoding.encode(SigV4Encoding.decode(String($0))) }.joined(separator: "/")
    }

    /// The query for the wire: each key and value decoded, then encoded once.
    var wireQuery: String { SigV4Encoding.queryPairs(query).map { "\($0.key)=\($0.value)" }.joined(separator: "&") }

    /// RFC 3986 dot segments removed and runs of `/` made one, as AWS requires (a trailing `/` kept).
    static func normalize(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/") where segment != "." {
            if segment == ".." { if !segments.isEmpty { segments.removeLast() } } else { segments.append(segment) }
        }
        let joined = "/" + segments.joined(separator: "/")
        return path.hasSuffix("/") && !segments.isEmpty ? joined + "/" : joined
    }

    func wireURL(path: String, query: String) -> String {
        "\(scheme)://\(authority)\(path)" + (query.isEmpty ? "" : "?\(query)")
    }
}

/// `YYYYMMDD'T'HHMMSS'Z'` from seconds since 1970 (UTC), without a calendar library.
enum SigV4Date {
    static func amzDate(_ epochSeconds: Int64) -> String {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondOfDay = epochSeconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)\(two(month))\(two(day))T\(two(secondOfDay / 3600))\(two(secondOfDay / 60 % 60))\(two(secondOfDay % 60))Z"
    }
}
