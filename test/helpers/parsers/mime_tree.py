# Reads JSON lines {"contentType": ..., "body": base64} on stdin; prints for each the MIME tree that
# Python's email package parses from it: {"headers": [[name, value]...], "body": base64} for a leaf,
# {"headers": ..., "parts": [...]} for a multipart. Payload bytes are the raw bytes, never decoded.
import base64
import json
import sys
from email.parser import BytesParser


def tree(message):
    node = {"headers": [[k, str(v)] for k, v in message.items()]}
    if message.is_multipart():
        node["parts"] = [tree(part) for part in message.get_payload()]
    else:
        payload = message._payload  # get_payload() would re-decode non-ASCII bytes with 'replace'
        node["body"] = base64.b64encode(payload.encode("ascii", "surrogateescape")).decode()
    return node


for line in sys.stdin:
    request = json.loads(line)
    raw = b"Content-Type: " + request["contentType"].encode() + b"\r\n\r\n" + base64.b64decode(request["body"])
    message = BytesParser().parsebytes(raw)
    print(json.dumps({"defects": [type(d).__name__ for d in message.defects], **tree(message)}))
