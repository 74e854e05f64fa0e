import AWSSigning
import Foundation
import HTTP
import Secrets
import Timekeeping

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

/// Where temporary AWS credentials come from.
public enum AWSCredentialOrigin: Sendable, Hashable {
    /// STS `AssumeRoleWithWebIdentity` (EKS IRSA).
    case webIdentity(AWSWebIdentity)
    /// A container credentials endpoint (EKS Pod Identity, ECS): `GET url` with the token file's
    /// content as `Authorization`.
    case container(url: String, tokenFile: String?)

    /// EKS Pod Identity's agent, and the token it takes.
    public static let podIdentityURL = "http://169.254.170.23/v1/credentials"
    public static let podIdentityTokenFile = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
}

/// Temporary AWS credentials per origin, used until five minutes before they expire, then fetched
/// again (the token file read anew).
public actor AWSCredentialCache {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
    private var cache: [AWSCredentialOrigin: (credentials: AWSCredentials, expires: Double)] = [:]
    private let wallNow: @Sendable () -> Double

    /// `wallNow`: Unix time (injected in tests); AWS says when credentials expire in wall time.
    public init(wallNow: @escaping @Sendable () -> Double = { WallClock().unixTime }) {
        self.wallNow = wallNow
    }

    public func credentials(for origin: AWSCredentialOrigin, client: HTTPClient) async throws(Failure) -> AWSCredentials {
        if let cached = cache[origin], cached.expires - 300 > wallNow() { return cached.credentials }
        let fetched: (credentials: AWSCredentials, expires: Double)
        switch origin {
        case .webIdentity(let identity): fetched = try await Self.assume(identity, client: client)
        case .container(let url, let tokenFile): fetched = try await Self.container(url, tokenFile: tokenFile, client: client)
        }
        Secrets.register(fetched.credentials.secretAccessKey)
        if let session = fetched.credentials.sessionToken { Secrets.register(session) }
        cache[origin] = fetched
        return fetched.credentials
    }

    private static func assume(_ identity: AWSWebIdentity, client: HTTPClient) async throws(Failure) -> (
        credentials: AWSCredentials, expires: Double
    ) {
        let token = try read(identity.tokenFile, "web identity token")
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", identity.roleARN),
            ("RoleSessionName", identity.sessionName), ("WebIdentityToken", token), ("DurationSeconds", "3600"),
        ].map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "")" }.joined(separator: "&")
        let response = try await send(
            HTTPRequest(
                method: "POST", url: identity.stsURL.hasSuffix("/") ? identity.stsURL : identity.stsURL + "/",
                headers: [HTTPHeader("content-type", "application/x-www-form-urlencoded")], body: Array(form.utf8), timeout: .seconds(10)),
            "STS \(identity.stsURL)", client: client)
        let text = response.bodyText
        func element(_ name: String) -> String? {
            guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
            else { return nil }
            return String(text[open.upperBound..<close.lowerBound])
        }
        guard response.status == 200, let key = element("AccessKeyId"), let secret = element("SecretAccessKey"),
            let session = element("SessionToken"), let expiration = element("Expiration").flatMap(unixTime)
        else {
            throw Failure(
                description: "STS refused AssumeRoleWithWebIdentity for \(identity.roleARN): HTTP \(response.status) "
                    + (element("Code") ?? ""))
        }
        return (AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: session), expiration)
    }

    private static func container(_ url: String, tokenFile: String?, client: HTTPClient) async throws(Failure) -> (
        credentials: AWSCredentials, expires: Double
    ) {
        var headers: [HTTPHeader] = []
        if let tokenFile { headers.append(HTTPHeader("Authorization", try read(tokenFile, "container credentials token"))) }
        let response = try await send(
            HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(5)), "container credentials \(url)", client: client)
        guard response.status == 200, let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any],
            let key = json["AccessKeyId"] as? String, let secret = json["SecretAccessKey"] as? String,
            let expiration = (json["Expiration"] as? String).flatMap(unixTime)
        else { throw Failure(description: "container credentials \(url): HTTP \(response.status), no AccessKeyId or Expiration") }
        return (AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: json["Token"] as? String), expiration)
    }

    private static func read(_ file: String, _ what: String) throws(Failure) -> String {
        let token: String
        do { token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw Failure(description: "cannot read the \(what) file \(file)")
        }
        guard !token.isEmpty else { throw Failure(description: "the \(what) file \(file) is empty") }
        return token
    }

    private static func send(_ request: HTTPRequest, _ place: String, client: HTTPClient) async throws(Failure) -> HTTPResponse {
        switch await client.execute(request).result {
        case .success(let answer): return answer
        case .failure(let failure): throw Failure(description: "\(place): \(failure.message)")
        }
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
