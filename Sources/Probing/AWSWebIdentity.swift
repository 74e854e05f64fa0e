import AWSSigning
import Foundation
import HTTP
import Secrets

/// AWS credentials from a web identity token, as EKS (IRSA) provides them: STS
/// `AssumeRoleWithWebIdentity` with the token file's current content (Kubernetes rotates it).
public struct AWSWebIdentity: Sendable, Hashable {
    public var roleARN: String
    public var tokenFile: String
    public var sessionName: String
    /// STS's address, e.g. `https://sts.us-east-1.amazonaws.com`.
    public var stsURL: String

    /// Where EKS mounts the projected token for IRSA.
    public static let eksTokenFile = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"

    public init(roleARN: String, tokenFile: String = eksTokenFile, sessionName: String = "failover-agent", stsURL: String) {
        (self.roleARN, self.tokenFile, self.sessionName, self.stsURL) = (roleARN, tokenFile, sessionName, stsURL)
    }
}

/// Temporary AWS credentials per web identity, used until five minutes before they expire, then
/// assumed again.
public actor AWSCredentialCache {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
    private var cache: [AWSWebIdentity: (credentials: AWSCredentials, expires: Double)] = [:]
    private let wallNow: @Sendable () -> Double

    /// `wallNow`: Unix time (injected in tests); STS says when credentials expire in wall time.
    public init(wallNow: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.wallNow = wallNow
    }

    public func credentials(for identity: AWSWebIdentity, client: HTTPClient) async throws(Failure) -> AWSCredentials {
        if let cached = cache[identity], cached.expires - 300 > wallNow() { return cached.credentials }
        let token: String
        do { token = try String(contentsOfFile: identity.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch
        {
            throw Failure(description: "cannot read the web identity token file \(identity.tokenFile)")
        }
        guard !token.isEmpty else { throw Failure(description: "the web identity token file \(identity.tokenFile) is empty") }
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", identity.roleARN),
            ("RoleSessionName", identity.sessionName), ("WebIdentityToken", token), ("DurationSeconds", "3600"),
        ].map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "")" }.joined(separator: "&")
        let exchange = await client.execute(
            HTTPRequest(
                method: "POST", url: identity.stsURL.hasSuffix("/") ? identity.stsURL : identity.stsURL + "/",
                headers: [HTTPHeader("content-type", "application/x-www-form-urlencoded")], body: Array(form.utf8), timeout: .seconds(10)))
        let response: HTTPResponse
        switch exchange.result {
        case .success(let answer): response = answer
        case .failure(let failure): throw Failure(description: "STS \(identity.stsURL): \(failure.message)")
        }
        let text = response.bodyText
        func element(_ name: String) -> String? {
            guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
            else { return nil }
            return String(text[open.upperBound..<close.lowerBound])
        }
        guard response.status == 200, let key = element("AccessKeyId"), let secret = element("SecretAccessKey"),
            let session = element("SessionToken"), let expiration = element("Expiration").flatMap(Self.unixTime)
        else {
            throw Failure(
                description: "STS refused AssumeRoleWithWebIdentity for \(identity.roleARN): HTTP \(response.status) "
                    + (element("Code") ?? ""))
        }
        Secrets.register(secret)
        Secrets.register(session)
        let credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: session)
        cache[identity] = (credentials, expiration)
        return credentials
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func unixTime(_ text: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)?.timeIntervalSince1970
    }
}
