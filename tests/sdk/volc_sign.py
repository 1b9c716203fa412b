"""Signs requests with the official Volcengine Python SDK (the `volcengine` package), without
sending them.

Reads one JSON case per line on stdin: {"ak", "sk", "region", "service", "method", "host",
"path", "query": {name: value}, "headers": {name: value}, "body", "date": <unix seconds>} and
prints one JSON line per case: {"authorization", "content_sha256"}.

SDK function called: volcengine.auth.SignerV4.SignerV4.sign_only(SignParam, Credentials) —
the same canonical request, derived key and signature as SignerV4.sign, with the date taken
from the parameters instead of the clock. Nothing is sent over the network.
"""
import datetime
import json
import sys
from collections import OrderedDict

from volcengine.Credentials import Credentials
from volcengine.auth.SignParam import SignParam
from volcengine.auth.SignerV4 import SignerV4


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        p = SignParam()
        p.set_method(case["method"])
        p.set_host(case["host"])
        p.set_path(case["path"])
        p.set_body(case["body"])
        p.set_query(OrderedDict(case["query"]))
        headers = OrderedDict(case["headers"])
        p.set_header_list(headers)
        p.set_date(datetime.datetime.fromtimestamp(case["date"], tz=datetime.timezone.utc))
        creds = Credentials(case["ak"], case["sk"], case["service"], case["region"])
        r = SignerV4.sign_only(p, creds)
        print(json.dumps({"authorization": r.authorization, "content_sha256": r.xContextSha256}))


if __name__ == "__main__":
    main()
