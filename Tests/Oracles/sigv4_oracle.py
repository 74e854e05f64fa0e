#!/usr/bin/env python3
"""A loopback endpoint that checks AWS Signature V4 the way AWS does, with botocore's signer as the
oracle. Usage: sigv4_oracle.py PORT_FILE ACCESS_KEY SECRET_KEY REGION SERVICE [SESSION_TOKEN]

Writes the port it listens on (127.0.0.1) to PORT_FILE. Each request is answered 200 with a
Bedrock Converse body when its signature verifies, else 403 InvalidSignatureException (or
UnrecognizedClientException for a wrong key or token), with the reason in the body's message.
Exits when its parent's stdin closes or after 10 minutes, whichever comes first."""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    sys.stderr.write("sigv4_oracle: botocore is not installed (pip install botocore)\n")
    sys.exit(3)

PORT_FILE, KEY, SECRET, REGION, SERVICE = sys.argv[1:6]
TOKEN = sys.argv[6] if len(sys.argv) > 6 else None
OK = {"output": {"message": {"role": "assistant", "content": [{"text": "p"}]}}, "stopReason": "max_tokens",
      "usage": {"inputTokens": 8, "outputTokens": 1, "totalTokens": 9}, "metrics": {"latencyMs": 1}}


def verify(method, path, headers, body):
    """Returns None when the request's signature is what AWS would compute, else why not."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "MissingAuthenticationToken", "no AWS4-HMAC-SHA256 Authorization header"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key, date, region, service, terminal = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    amz_date = headers.get("x-amz-date", "")
    if key != KEY:
        return "UnrecognizedClientException", "unknown access key"
    if (region, service, terminal) != (REGION, SERVICE, "aws4_request") or date != amz_date[:8]:
        return "InvalidSignatureException", "credential scope does not match"
    for required in ["host", "x-amz-date"] + (["x-amz-security-token"] if "x-amz-security-token" in headers else []):
        if required not in signed:
            return "InvalidSignatureException", f"{required} is not signed"
    missing = [name for name in signed if name not in headers]
    if missing:
        return "InvalidSignatureException", f"signed but not sent: {','.join(missing)}"
    if headers.get("x-amz-security-token") != TOKEN:
        return "UnrecognizedClientException", "security token is missing or wrong"
    request = AWSRequest(method=method, url=f"http://{headers['host']}{path}",
                         headers={name: headers[name] for name in signed}, data=body)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(KEY, SECRET, TOKEN), SERVICE, REGION)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != fields["Signature"]:
        return "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Canonical request:\n" + canonical
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0") or 0))
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + "," + value if name in headers else value
        problem = verify(self.command, self.path, headers, body)
        status, payload, extra = 200, OK, {}
        if problem:
            status, payload = 403, {"message": problem[1]}
            extra = {"x-amzn-ErrorType": problem[0] + ":http://internal.amazon.com/coral/com.amazon.coral.service/"}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = handle_any

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.replace(PORT_FILE + ".tmp", PORT_FILE)
threading.Thread(target=server.serve_forever, daemon=True).start()
deadline = time.time() + 600
while time.time() < deadline:
    if sys.stdin.read(1) == "":
        break
server.shutdown()
