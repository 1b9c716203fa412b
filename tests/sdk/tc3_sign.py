"""Signs requests with the official Tencent Cloud Python SDK, without sending them.

Reads one JSON case per line on stdin:
  {"secret_id", "secret_key", "timestamp", "host", "action", "params"}
or, with a "body" (exact request body, not re-serialised) instead of "action"/"params",
signs that body; prints one JSON line per case: {"body", "content_type", "host", "authorization"}.

SDK function called: tencentcloud.common.abstract_client.AbstractClient
._build_req_with_tc3_signature(action, params, req) — the code path every SDK call takes to
serialise the body (json.dumps) and sign it (SignedHeaders=content-type;host, key derivation in
tencentcloud.common.sign.Sign.sign_tc3). time.time is patched to the case's timestamp. Nothing
is sent over the network.
"""
import datetime
import json
import sys
from unittest import mock

from tencentcloud.common import credential
from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile


class DnspodClient(AbstractClient):
    _apiVersion = "2021-03-23"
    _endpoint = "dnspod.tencentcloudapi.com"
    _service = "dnspod"


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        cred = credential.Credential(case["secret_id"], case["secret_key"])
        http_profile = HttpProfile(endpoint=case["host"])
        profile = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http_profile)
        client = DnspodClient(cred, "", profile)
        req = RequestInternal(case["host"], "POST", "/")
        if "body" in case:
            # Our exact body bytes (raw UTF-8, as ddnsd sends them), signed by the SDK's
            # AbstractClient._get_tc3_signature (canonical request + Sign.sign_tc3).
            req.data = case["body"]
            req.header["Content-Type"] = "application/json"
            req.header["Host"] = case["host"]
            req.header["X-TC-Timestamp"] = str(case["timestamp"])
            date = datetime.datetime.fromtimestamp(case["timestamp"], datetime.timezone.utc).strftime("%Y-%m-%d")
            signature = client._get_tc3_signature(None, req, date, "dnspod", case["secret_key"])
            print(json.dumps({
                "body": req.data,
                "content_type": req.header["Content-Type"],
                "host": req.header["Host"],
                "timestamp": str(case["timestamp"]),
                "authorization": "TC3-HMAC-SHA256 Credential=%s/%s/dnspod/tc3_request, SignedHeaders=content-type;host, Signature=%s"
                % (case["secret_id"], date, signature),
            }))
            continue
        with mock.patch("time.time", return_value=float(case["timestamp"])):
            client._build_req_with_tc3_signature(case["action"], case["params"], req)
        print(json.dumps({
            "body": req.data,
            "content_type": req.header["Content-Type"],
            "host": req.header["Host"],
            "timestamp": req.header["X-TC-Timestamp"],
            "authorization": req.header["Authorization"],
        }))


if __name__ == "__main__":
    main()
