"""Makes service-account JWT assertions with the official Google auth library (google-auth),
without sending them.

Reads one JSON case per line on stdin: {"key": <the key file's JSON object>, "scopes": [..],
"now": <unix seconds>} and prints one JSON line per case: {"assertion": "<header.claims.sig>"}.

Library function called: google.oauth2.service_account.Credentials
._make_authorization_grant_assertion() — the assertion `refresh()` trades at the token
endpoint (RS256 via google.auth.crypt). The clock it reads (google.auth._helpers.utcnow) is
replaced by the case's time. Nothing is sent over the network.
"""
import datetime
import json
import sys

from google.auth import _helpers
from google.oauth2 import service_account


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        now = datetime.datetime.fromtimestamp(case["now"], tz=datetime.timezone.utc).replace(tzinfo=None)
        _helpers.utcnow = lambda now=now: now
        creds = service_account.Credentials.from_service_account_info(
            case["key"], scopes=case["scopes"])
        assertion = creds._make_authorization_grant_assertion()
        if isinstance(assertion, bytes):
            assertion = assertion.decode("ascii")
        print(json.dumps({"assertion": assertion}))


if __name__ == "__main__":
    main()
