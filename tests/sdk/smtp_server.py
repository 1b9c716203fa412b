"""A local SMTP relay for tests/it/status.rs (aiosmtpd from Debian's python3-aiosmtpd):
STARTTLS required, or implicit TLS, with AUTH; every accepted mail is appended to OUT as one
JSON line. Runs until its standard input closes.

usage: smtp_server.py starttls|implicit PORT CERT KEY OUT USER PASSWORD"""
import json
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

mode, port, cert, key, out, user, password = sys.argv[1:8]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        rec = {
            "mode": mode,
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "authenticated": bool(session.authenticated),
            "data": envelope.content.decode("utf-8", "replace"),
        }
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    return AuthResult(success=ok)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
common = dict(hostname="127.0.0.1", port=int(port), authenticator=authenticate, auth_required=True)
if mode == "starttls":
    controller = Controller(Handler(), tls_context=ctx, require_starttls=True, **common)
else:
    controller = Controller(Handler(), ssl_context=ctx, auth_require_tls=False, **common)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
