"""Parses Prometheus text exposition from stdin with the official client library's parser
(prometheus-client) and prints the families as JSON, for tests/it/status.rs."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def value(v):
    return v if math.isfinite(v) else str(v)


families = [
    {
        "name": f.name,
        "type": f.type,
        "help": f.documentation,
        "samples": [
            {"name": s.name, "labels": s.labels, "value": value(s.value)} for s in f.samples
        ],
    }
    for f in text_string_to_metric_families(sys.stdin.read())
]
print(json.dumps(families))
