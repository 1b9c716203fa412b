"""Signs Alidns requests with the official Alibaba Cloud Python SDK, without sending them.

Reads one JSON case per line on stdin:
  {"access_key_id", "access_key_secret", "endpoint", "action", "params", "date", "nonce"}
where "params" uses the API's parameter names (SubDomain, PageNumber, …). Prints one JSON line
per case:
  {"method", "pathname", "query", "headers", "authorization", "minimal_authorization"}

"authorization" comes from the SDK's own call path: alibabacloud_alidns20150109's
Client.<action>_with_options → alibabacloud_tea_openapi Client.call_api → do_request, which
builds the request (POST /, parameters in the query, empty body), adds the x-acs-* headers and
signs every header with Utils.get_authorization (ACS3-HMAC-SHA256, the default algorithm).
Utils.get_timestamp and Utils.get_nonce are patched to the case's values, and
DaraCore.do_action is patched to capture the request instead of sending it, so nothing goes on
the network.

"minimal_authorization" is the same SDK function (Utils.get_authorization) over the header set
ddnsd signs (host, x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce,
x-acs-content-sha256) and the same query.
"""
import hashlib
import json
import re
import sys
from unittest import mock

from alibabacloud_alidns20150109 import models
from alibabacloud_alidns20150109.client import Client
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions

CAPTURED = []


def capture(request, runtime):
    CAPTURED.append(request)
    raise RuntimeError("captured, not sent")


class Minimal:
    def __init__(self, method, pathname, query, headers):
        self.method = method
        self.pathname = pathname
        self.query = query
        self.headers = headers


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        config = Config(
            access_key_id=case["access_key_id"],
            access_key_secret=case["access_key_secret"],
            endpoint=case["endpoint"],
            protocol="http",
        )
        client = Client(config)
        action = case["action"]
        request = getattr(models, action + "Request")().from_map(case["params"])
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower() + "_with_options"
        CAPTURED.clear()
        with mock.patch.object(Utils, "get_timestamp", return_value=case["date"]), \
                mock.patch.object(Utils, "get_nonce", return_value=case["nonce"]), \
                mock.patch("alibabacloud_tea_openapi.client.DaraCore.do_action", side_effect=capture):
            try:
                getattr(client, method)(request, RuntimeOptions())
            except Exception:  # the capture's own exception, wrapped by the SDK's retry loop
                pass
        assert len(CAPTURED) == 1, "the sdk did not build exactly one request"
        req = CAPTURED[0]
        headers = {k: str(v) for k, v in req.headers.items()}
        query = {k: str(v) for k, v in req.query.items() if v is not None}
        empty = hashlib.sha256(b"").hexdigest()
        minimal = Minimal(
            req.method,
            req.pathname,
            query,
            {
                "host": headers["host"],
                "x-acs-action": headers["x-acs-action"],
                "x-acs-version": headers["x-acs-version"],
                "x-acs-date": case["date"],
                "x-acs-signature-nonce": case["nonce"],
                "x-acs-content-sha256": empty,
            },
        )
        print(json.dumps({
            "method": req.method,
            "pathname": req.pathname,
            "query": query,
            "headers": headers,
            "body": req.body if isinstance(req.body, str) else "",
            "authorization": headers["Authorization"],
            "minimal_authorization": Utils.get_authorization(
                minimal, "ACS3-HMAC-SHA256", empty, case["access_key_id"], case["access_key_secret"]
            ),
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
