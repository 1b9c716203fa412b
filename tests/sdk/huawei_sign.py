"""Signs requests with the official Huawei Cloud Python SDK core (huaweicloudsdkcore), without
sending them.

Reads one JSON case per line on stdin:
  {"ak", "sk", "method", "host", "path", "query": [[k, v], ...], "headers": {name: value},
   "body", "date"}
and prints one JSON line per case: {"authorization", "uri"}.

SDK function called: huaweicloudsdkcore.signer.signer.Signer(BasicCredentials).sign(SdkRequest)
— the signer every huaweicloudsdk* client runs before sending (SDK-HMAC-SHA256; every header
without "_" is signed; the canonical URI always ends in "/"). The X-Sdk-Date header is set to
the case's "date", so the signer uses it instead of the clock. Nothing is sent over the network.
"""
import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        headers = dict(case["headers"])
        headers["X-Sdk-Date"] = case["date"]
        request = SdkRequest(
            method=case["method"],
            schema="https",
            host=case["host"],
            resource_path=case["path"],
            query_params=[(k, v) for k, v in case["query"]],
            header_params=headers,
            body=case["body"].encode("utf-8") if case["body"] else "",
        )
        signed = Signer(BasicCredentials(case["ak"], case["sk"])).sign(request)
        print(json.dumps({
            "authorization": signed.header_params["Authorization"],
            "uri": signed.uri,
        }))


if __name__ == "__main__":
    main()
