import AWSSigning
import Testing

/// AWS's published SigV4 test suite (`aws-sig-v4-test-suite`: region us-east-1, service `service`,
/// 2015-08-30T12:36:00Z, key AKIDEXAMPLE), a representative set; each expected signature is the
/// suite's and was also checked against botocore's signer.
@Suite struct SigV4VectorTests {
    static let signer = SigV4Signer(
        region: "us-east-1", service: "service",
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let baseHeaders: [(name: String, value: String)] = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String, method: String, path: String, query: String, signature: String
        var canonicalPath: String? = nil, canonicalQuery: String? = nil
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        .init(
            name: "get-vanilla", method: "GET", path: "/", query: "",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        .init(
            name: "get-vanilla-query-order-key-case", method: "GET", path: "/", query: "Param2=value2&Param1=value1",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", canonicalQuery: "Param1=value1&Param2=value2"),
        .init(
            name: "get-vanilla-query-unreserved", method: "GET", path: "/",
            query:
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                + "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        .init(
            name: "get-space (reserved character in the path)", method: "GET", path: "/example space/", query: "",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741", canonicalPath: "/example%20space/"),
        .init(
            name: "get-utf8", method: "GET", path: "/ሴ", query: "",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            canonicalPath: "/%E1%88%B4"),
        .init(
            name: "get-relative-relative (normalize-path)", method: "GET", path: "/example1/example2/../..", query: "",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", canonicalPath: "/"),
        .init(
            name: "post-vanilla", method: "POST", path: "/", query: "",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ]

    @Test(arguments: vectors) func suiteVector(_ vector: Vector) {
        let canonical = SigV4Signer.canonicalRequest(
            method: vector.method, path: vector.path, query: vector.query, headers: Self.baseHeaders, payloadHash: Self.emptyHash)
        let lines = canonical.split(separator: "\n", omittingEmptySubsequences: false)
        if let path = vector.canonicalPath { #expect(lines[1] == Substring(path)) }
        if let query = vector.canonicalQuery { #expect(lines[2] == Substring(query)) }
        #expect(Self.signer.signature(canonicalRequest: canonical, amzDate: "20150830T123600Z").signature == vector.signature)
    }

    @Test func postFormBodyIsHashedAndContentTypeSigned() {
        let body = Array("Param1=value1".utf8)
        let signed = try! Self.signer.sign(
            method: "POST", url: "https://example.amazonaws.com/", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: body, epochSeconds: 1_440_938_160)
        #expect(signed.signature == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
        #expect(signed.headers.last?.value.contains("SignedHeaders=content-type;host;x-amz-date,") == true)
    }

    @Test func theSuiteDateIsFormatted() throws {
        let signed = try Self.signer.sign(
            method: "GET", url: "https://example.amazonaws.com/", headers: [], body: [], epochSeconds: 1_440_938_160)
        #expect(signed.headers.first { $0.name == "X-Amz-Date" }?.value == "20150830T123600Z")
        #expect(signed.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(
            signed.headers.last?.value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    }
}
