#!/usr/bin/env python3
"""A local dyndns2 server for bench/peers.sh that publishes into BIND with nsupdate.

inadyn speaks only dyndns2-style HTTP, not RFC 2136. So that ddnsd and inadyn are measured on
the same path, both send their updates here (ddnsd with its `dyndns2` provider, inadyn with a
`custom` provider): `GET /nic/update?hostname=H&myip=A` with HTTP Basic auth is answered only
after `nsupdate` has replaced H's A/AAAA set in BIND, so "served by BIND" includes the same
shim and the same nsupdate run for both clients. Requests are handled concurrently (one
thread each), so neither client waits for the other.

Usage: dyndns2_shim.py PORT USER PASSWORD DNS_PORT KEYNAME:SECRET_B64
Logs one line per request to stderr; standard library only; listens on 127.0.0.1 only.
"""

import base64
import ipaddress
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT, USER, PASSWORD, DNS_PORT, KEY = sys.argv[1:6]
EXPECTED = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
LOCK = threading.Lock()  # one nsupdate at a time per name would do; one overall is simpler
COUNT = {"requests": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        COUNT["requests"] += 1
        url = urlsplit(self.path)
        if url.path != "/nic/update":
            return self.answer(404, "not found")
        if self.headers.get("Authorization") != EXPECTED:
            return self.answer(401, "badauth")
        q = parse_qs(url.query)
        host = (q.get("hostname") or [""])[0]
        ips = [a for v in q.get("myip", []) for a in v.split(",") if a]
        try:
            addrs = [ipaddress.ip_address(a) for a in ips]
        except ValueError:
            return self.answer(200, "dnserr")
        if not host or not addrs:
            return self.answer(200, "notfqdn")
        script = [f"server 127.0.0.1 {DNS_PORT}"]
        for rtype in sorted({"AAAA" if a.version == 6 else "A" for a in addrs}):
            script.append(f"update delete {host}. {rtype}")
        for a in addrs:
            script.append(f"update add {host}. 60 {'AAAA' if a.version == 6 else 'A'} {a}")
        script.append("send")
        with LOCK:
            r = subprocess.run(["nsupdate", "-y", f"hmac-sha256:{KEY}"],
                               input="\n".join(script) + "\n", text=True,
                               capture_output=True, timeout=10)
        if r.returncode != 0:
            sys.stderr.write(f"nsupdate failed: {r.stderr}\n")
            return self.answer(200, "dnserr")
        self.answer(200, "good " + ",".join(str(a) for a in addrs))

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.headers.get("User-Agent", "-"), fmt % args))


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
