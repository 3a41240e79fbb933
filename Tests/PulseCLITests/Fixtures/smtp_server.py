#!/usr/bin/env python3
"""A real SMTP server on loopback for the mail tests: aiosmtpd with STARTTLS (a
self-signed certificate made at start) and AUTH, saving each accepted message as an
.eml file. Faults on demand:
  --fail-first N   answer 451 to the first N DATA commands (a transient failure)
  --reject ADDR    answer 550 to RCPT TO:<ADDR> (a permanent failure)
Prints "READY <port>" once it listens, and runs until killed.
Usage: smtp_server.py DIR [--port P] [--user U --password P] [--fail-first N] [--reject ADDR]"""
import argparse, os, signal, ssl, subprocess, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# A child of a Swift test process inherits its thread's blocked signals: unblock them,
# or SIGTERM would never arrive.
signal.pthread_sigmask(signal.SIG_SETMASK, [])

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--port", type=int, default=0)
p.add_argument("--user", default="pulse")
p.add_argument("--password", default="s3cret")
p.add_argument("--fail-first", type=int, default=0)
p.add_argument("--reject", action="append", default=[])
a = p.parse_args()
if a.port == 0:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        a.port = s.getsockname()[1]
os.makedirs(a.dir, exist_ok=True)
cert, key = os.path.join(a.dir, "cert.pem"), os.path.join(a.dir, "key.pem")
if not os.path.exists(cert):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "3650", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)


class Handler:
    def __init__(self):
        self.failures_left = a.fail_first
        self.count = 0
        self.connections = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in a.reject:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 try again later"
        self.count += 1
        name = os.path.join(a.dir, f"{time.time_ns()}-{self.count}.eml")
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(name + ".tmp", name)
        with open(os.path.join(a.dir, "envelopes.log"), "a") as f:
            f.write(f"{id(session)} {envelope.mail_from} {' '.join(envelope.rcpt_tos)}\n")
        return f"250 2.0.0 Ok: queued as {self.count}"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and auth_data.password.decode() == a.password
    # handled=False: aiosmtpd then answers 535 itself (with the default, it answers nothing).
    return AuthResult(success=ok, handled=False)


controller = Controller(Handler(), hostname="127.0.0.1", port=a.port, tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_required=True, auth_require_tls=True)
controller.start()
print(f"READY {controller.port}", flush=True)
# Stop on SIGTERM, and when the test process that started us is gone (killed, crashed).
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
parent = os.getppid()
try:
    while os.getppid() == parent:
        time.sleep(0.5)
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
