"""Signs fixed requests with botocore's SigV4Auth (the signer of the official AWS SDK) for the
byte-for-byte cross-check in tests/it/route53.rs.

One JSON object per input line: {"method", "host", "path", "query": [[K, V]...], "body",
"key", "secret", "time" (Unix seconds)}; one JSON line out per input:
{"canonical_request", "authorization"}. Sends nothing anywhere.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

for line in sys.stdin:
    c = json.loads(line)
    when = datetime.datetime.fromtimestamp(c["time"], datetime.timezone.utc)
    botocore.auth.get_current_datetime = lambda when=when: when
    headers = {"Host": c["host"]}
    if c["body"]:
        headers["Content-Type"] = "text/xml"
    req = AWSRequest(
        method=c["method"],
        url="https://" + c["host"] + c["path"],
        params=dict(c["query"]) if c["query"] else None,
        data=c["body"].encode("utf-8"),
        headers=headers,
    )
    auth = SigV4Auth(Credentials(c["key"], c["secret"]), "route53", "us-east-1")
    seen = {}
    original = auth.canonical_request

    def recording(request, original=original, seen=seen):
        seen["cr"] = original(request)
        return seen["cr"]

    auth.canonical_request = recording
    auth.add_auth(req)
    print(json.dumps({"canonical_request": seen["cr"], "authorization": req.headers["Authorization"]}))
