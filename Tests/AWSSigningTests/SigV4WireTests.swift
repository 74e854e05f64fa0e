import AWSSigning
import Testing

/// What goes on the wire for Bedrock: a model id's `:` encoded once on the wire and twice in the
/// canonical request, the query encoded and sorted, and only headers that are sent are signed.
@Suite struct SigV4WireTests {
    static let signer = SigV4Signer(
        region: "us-east-1", service: "bedrock",
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token/value=="))

    func sign(_ url: String, headers: [(name: String, value: String)] = []) throws -> SigV4Signer.Signed {
        try Self.signer.sign(method: "POST", url: url, headers: headers, body: Array("{}".utf8), epochSeconds: 1_764_000_000)
    }

    @Test func aModelIdWithAColonIsEncodedOnceOnTheWireAndTwiceWhenSigned() throws {
        for url in [
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-haiku-4-5-20251001-v1:0/converse",
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/converse",
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-haiku-4-5-20251001-v1%3a0/converse",
        ] {
            let signed = try sign(url)
            #expect(
                signed.url == "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/converse")
            #expect(signed.canonicalRequest.split(separator: "\n")[1] == "/model/anthropic.claude-haiku-4-5-20251001-v1%253A0/converse")
        }
    }

    @Test func theQueryIsEncodedAndSorted() throws {
        let signed = try sign("http://127.0.0.1:8080/model/m/converse?z=1&a=b c&a=a")
        #expect(signed.url == "http://127.0.0.1:8080/model/m/converse?z=1&a=b%20c&a=a")
        #expect(signed.canonicalRequest.split(separator: "\n")[2] == "a=a&a=b%20c&z=1")
    }

    @Test func onlySentHeadersAreSigned() throws {
        let signed = try sign(
            "https://bedrock-runtime.eu-west-1.amazonaws.com:443/model/m/converse",
            headers: [("content-type", "application/json"), ("Expect", ""), ("User-Agent", "failover-agent"), ("X-Amz-Date", "stale")])
        let names = signed.headers.map { $0.name.lowercased() }
        #expect(!names.contains("expect"))
        #expect(names.filter { $0 == "x-amz-date" }.count == 1)
        #expect(signed.headers.first { $0.name == "Host" }?.value == "bedrock-runtime.eu-west-1.amazonaws.com")
        #expect(signed.headers.first { $0.name == "X-Amz-Security-Token" }?.value == "token/value==")
        let authorization = try #require(signed.headers.last)
        #expect(authorization.name == "Authorization")
        #expect(authorization.value.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"))
        #expect(authorization.value.contains("Credential=AKIDEXAMPLE/20251124/us-east-1/bedrock/aws4_request"))
    }

    @Test func aPortThatIsNotTheDefaultIsPartOfTheHost() throws {
        let signed = try sign("http://127.0.0.1:9000/x")
        #expect(signed.headers.first { $0.name == "Host" }?.value == "127.0.0.1:9000")
    }

    @Test func urlsThatCannotBeSignedAreErrors() {
        #expect(throws: SigV4Error.self) { try sign("ftp://example.com/") }
        #expect(throws: SigV4Error.self) { try sign("https://user:pw@example.com/") }
        #expect(throws: SigV4Error.self) { try sign("example.com/x") }
    }
}
