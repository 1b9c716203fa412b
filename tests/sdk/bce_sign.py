"""Signs requests with the official Baidu AI Cloud Python SDK (bce-python-sdk), without sending
them.

Reads one JSON case per line on stdin: {"ak", "sk", "method", "path" (as sent, encoded),
"headers": {name: value}, "params": {name: value}, "timestamp": <unix seconds>,
"headers_to_sign": [names]} and prints one JSON line per case: {"authorization"}.

SDK function called: baidubce.auth.bce_v1_signer.sign(credentials, method, path, headers,
params, timestamp, expiration_in_seconds=1800, headers_to_sign) — the signer every bce client
runs before sending. Nothing is sent over the network.
"""
import json
import sys

from baidubce.auth import bce_v1_signer
from baidubce.auth.bce_credentials import BceCredentials


def b(s):
    return s.encode("utf-8")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        creds = BceCredentials(b(case["ak"]), b(case["sk"]))
        headers = {b(k): b(v) for k, v in case["headers"].items()}
        params = {b(k): b(v) for k, v in case["params"].items()}
        auth = bce_v1_signer.sign(
            creds, b(case["method"]), b(case["path"]), headers, params,
            case["timestamp"], 1800, [b(h) for h in case["headers_to_sign"]])
        print(json.dumps({"authorization": auth.decode("utf-8")}))


if __name__ == "__main__":
    main()
