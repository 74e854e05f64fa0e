"""Decodes an AWS event stream with botocore's own parser (the SDK's, independent of ours).

Reads the stream's bytes on stdin; prints one JSON object per message: its headers and its
payload as text. A checksum or framing error exits 1 with botocore's message.
"""
import json
import sys

from botocore.eventstream import EventStreamBuffer

buffer = EventStreamBuffer()
buffer.add_data(sys.stdin.buffer.read())
try:
    for message in buffer:
        print(json.dumps({"headers": message.headers, "payload": message.payload.decode("utf-8")}, sort_keys=True))
except Exception as error:  # botocore raises its own ParserError subclasses
    print(f"{type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(1)
