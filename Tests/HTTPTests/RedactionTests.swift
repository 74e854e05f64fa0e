import HTTP
import Testing

@Suite struct RedactionTests {
    @Test func credentialHeadersAreMaskedInDescriptions() {
        let request = HTTPRequest(
            method: "POST", url: "https://api.anthropic.com/v1/messages",
            headers: [
                HTTPHeader("x-api-key", "sk-ant-secret-1"), HTTPHeader("Authorization", "Bearer ya29.token"),
                HTTPHeader("X-Vault-Token", "hvs.vaulttoken"), HTTPHeader("PRIVATE-TOKEN", "glpat-abc"),
                HTTPHeader("anthropic-version", "2023-06-01"),
            ])
        let text = request.redactedDescription
        for secret in ["sk-ant-secret-1", "ya29.token", "hvs.vaulttoken", "glpat-abc"] { #expect(!text.contains(secret)) }
        #expect(text.contains("anthropic-version: 2023-06-01"))
        #expect(text.contains("x-api-key: [redacted]"))
    }

    @Test func urlCredentialsAndSignedQueriesAreMasked() {
        #expect(Redaction.redact(url: "https://user:pw@host/x?key=abc&alt=json") == "https://[redacted]@host/x?key=[redacted]&alt=json")
        #expect(
            Redaction.redact(url: "https://s3/x?X-Amz-Signature=f00&X-Amz-Date=1") == "https://s3/x?X-Amz-Signature=[redacted]&X-Amz-Date=1"
        )
        #expect(Redaction.redact(url: "https://host/path") == "https://host/path")
    }

    @Test func scrubRemovesSecretValuesFromText() {
        #expect(Redaction.scrub("bad key sk-ant-123 given", secrets: ["sk-ant-123"]) == "bad key [redacted] given")
        #expect(Redaction.scrub("abc", secrets: ["ab"]) == "abc")  // too short to be a secret: left alone
    }
}
