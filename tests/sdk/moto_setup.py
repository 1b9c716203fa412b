"""Prepares a fresh moto_server for the Route 53 tests (tests/it/harness/route53_moto.rs).

Reads one JSON object on stdin: {"endpoint": URL, "zones": [NAME...], "records": [{"zone",
"name", "type", "ttl", "values"}...], "iam": BOOL (default true)}. Creates an IAM user allowed route53:* and one allowed
only route53:List* (each with an access key), the hosted zones and the seed records, then turns
on moto's IAM authentication, from which point moto checks every request's SigV4 signature by
recomputing it with botocore and checks the action against the user's policy. Prints one JSON
object: {"writer": [ID, SECRET], "reader": [ID, SECRET], "zones": {NAME: ID}}.
Talks only to the given loopback endpoint.
"""
import json
import sys
import urllib.request

import boto3

cfg = json.load(sys.stdin)
endpoint = cfg["endpoint"]
common = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="setup",
    aws_secret_access_key="setup",
)
iam = boto3.client("iam", **common)
r53 = boto3.client("route53", **common)


def user(name, actions):
    iam.create_user(UserName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }
    iam.put_user_policy(UserName=name, PolicyName="dns", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return [key["AccessKeyId"], key["SecretAccessKey"]]


# Without "iam" (the conformance battery), moto's authentication stays off: the test's own
# proxy then checks every signature, with a key the test chose.
iam_on = cfg.get("iam", True)
out = {
    "writer": user("ddnsd", ["route53:*"]) if iam_on else None,
    "reader": user("reader", ["route53:List*", "route53:Get*"]) if iam_on else None,
    "zones": {},
}
for i, name in enumerate(cfg["zones"]):
    z = r53.create_hosted_zone(Name=name, CallerReference="ddnsd-test-%d" % i)
    out["zones"][name] = z["HostedZone"]["Id"].split("/")[-1]
for r in cfg.get("records", []):
    r53.change_resource_record_sets(
        HostedZoneId=out["zones"][r["zone"]],
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": r["name"], "Type": r["type"], "TTL": r["ttl"],
            "ResourceRecords": [{"Value": v} for v in r["values"]]}}]},
    )
if not iam_on:
    print(json.dumps(out))
    sys.exit(0)
# A non-form content type, or Flask parses the body away as a form.
req = urllib.request.Request(
    endpoint + "/moto-api/reset-auth",
    data=b"0",
    method="POST",
    headers={"Content-Type": "text/plain"},
)
with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req) as resp:
    assert resp.status == 200, resp.status
print(json.dumps(out))
