import Crypto

/// AWS credentials for Signature Version 4.
public struct AWSCredentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Temporary credentials: sent, and signed, as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), computed the way AWS checks it: the path
/// normalized and each segment URI-encoded twice (once for the wire, once more in the canonical
/// request) for every service but S3, the query sorted and encoded, and exactly the headers that
/// are sent signed.
public struct SigV4Signer: Sendable, Hashable {
    public var region: String
    public var service: String
    public var credentials: AWSCredentials

    public init(region: String, service: String, credentials: AWSCredentials) {
        self.region = region
        self.service = service
        self.credentials = credentials
    }

    /// A request ready for the wire: the URL to send (path and query encoded as signed), and the
    /// headers to send — the caller's, then `Host`, `X-Amz-Date`, the session token, and
    /// `Authorization`. Headers with an empty value are not sent, so they are neither signed nor kept.
    public struct Signed: Sendable {
        public var url: String
        public var headers: [(name: String, value: String)]
        /// The canonical request, for tests and debugging (no secret in it).
        public var canonicalRequest: String
        public var signature: String
    }

    /// Signs `method url` with `headers` and `body` at `epochSeconds` (UTC).
    public func sign(
        method: String, url: String, headers: [(name: String, value: String)], body: [UInt8], epochSeconds: Int64
    ) throws(SigV4Error) -> Signed {
        let parts = try SigV4URL(url)
        let isS3 = service == "s3"
        let wirePath = parts.wirePath(normalize: !isS3)
        let wireQuery = parts.wireQuery
        let amzDate = SigV4Date.amzDate(epochSeconds)
        let payloadHash = Self.hex(SHA256.hash(data: body))

        var sent = headers.filter { !$0.value.isEmpty && !Self.replaced.contains($0.name.lowercased()) }
        sent.append(("Host", parts.hostHeader))
        sent.append(("X-Amz-Date", amzDate))
        if let token = credentials.sessionToken, !token.isEmpty { sent.append(("X-Amz-Security-Token", token)) }
        if isS3 { sent.append(("X-Amz-Content-SHA256", payloadHash)) }

        let signed = sent.filter { !Self.unsigned.contains($0.name.lowercased()) }
        let canonicalRequest = Self.canonicalRequest(
            method: method, path: wirePath, query: wireQuery, headers: signed, payloadHash: payloadHash, encodePath: !isS3)
        let signature = signature(canonicalRequest: canonicalRequest, amzDate: amzDate).signature
        let signedHeaders = Set(signed.map { $0.name.lowercased() }).sorted().joined(separator: ";")
        sent.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(amzDate)), SignedHeaders=\(signedHeaders), "
                    + "Signature=\(signature)"
            ))
        return Signed(
            url: parts.wireURL(path: wirePath, query: wireQuery), headers: sent, canonicalRequest: canonicalRequest, signature: signature)
    }

    /// AWS's canonical request for a request as it goes on the wire (`path` and `query` as sent;
    /// `headers` exactly those signed, `host` and `x-amz-date` included). The path is normalized and
    /// encoded once more when `encodePath` (every service but S3); the query is sorted and encoded.
    public static func canonicalRequest(
        method: String, path: String, query: String, headers: [(name: String, value: String)], payloadHash: String,
        encodePath: Bool = true
    ) -> String {
        var canonical: [String: [String]] = [:]
        for header in headers { canonical[header.name.lowercased(), default: []].append(trimAll(header.value)) }
        let names = canonical.keys.sorted()
        return [
            method.uppercased(),
            encodePath ? SigV4Encoding.encode(SigV4URL.normalize(path), keepSlash: true) : path,
            SigV4Encoding.canonicalQuery(query),
            names.map { "\($0):\(canonical[$0]!.joined(separator: ","))\n" }.joined(),
            names.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The string to sign and the hex signature of `canonicalRequest` at `amzDate` (`YYYYMMDD'T'HHMMSS'Z'`).
    public func signature(canonicalRequest: String, amzDate: String) -> (stringToSign: String, signature: String) {
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope(amzDate), Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(
            separator: "\n")
        return (stringToSign, Self.hex(signingKey(date: String(amzDate.prefix(8))).authenticationCode(stringToSign)))
    }

    /// The credential scope: `date/region/service/aws4_request`.
    private func scope(_ amzDate: String) -> String { "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request" }

    private func signingKey(date: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// Headers the signer sets itself; a caller's copy is dropped.
    static let replaced: Set<String> = ["host", "x-amz-date", "authorization", "x-amz-security-token", "x-amz-content-sha256"]
    /// Headers sent but never signed (AWS's SDKs leave them out: proxies may change them).
    static let unsigned: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id", "connection"]

    /// Trims a header value and turns runs of spaces into one (AWS's `Trimall`).
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SymmetricKey {
    fileprivate func authenticationCode(_ text: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: self))
    }
}

/// A URL that cannot be signed.
public struct SigV4Error: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}
