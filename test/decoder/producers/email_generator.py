# Writes a multipart/mixed message with Python's email generator and prints, as one JSON line per
# policy (SMTP: CRLF line ends, lines folded at 78; default: LF), its Content-Type and its body.
import base64
import json
from email import policy
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

message = MIMEMultipart("mixed")
message.preamble = "This is a multi-part message in MIME format."
message.attach(MIMEText("Grüße, world\n", "plain", "utf-8"))
attachment = MIMEApplication(bytes(range(256)) * 4)
attachment.add_header(
    "Content-Disposition", "attachment", filename="naïve résumé with a name long enough to be folded.bin"
)
message.attach(attachment)
message.attach(MIMEText("<p>" + "x" * 200 + "</p>", "html"))
message.epilogue = ""

for name, chosen in (("SMTP", policy.SMTP), ("default", policy.default)):
    raw = message.as_bytes(policy=chosen)
    separator = b"\r\n\r\n" if name == "SMTP" else b"\n\n"
    head, body = raw.split(separator, 1)
    print(json.dumps({"policy": name, "contentType": message["Content-Type"], "body": base64.b64encode(body).decode()}))
