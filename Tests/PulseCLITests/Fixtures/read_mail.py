#!/usr/bin/env python3
"""Parses every .eml in a folder with Python's email package (a real MIME parser) and
prints what the tests check, as JSON."""
import email, glob, json, sys
from email import policy

out = []
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    raw = open(f, "rb").read()
    m = email.message_from_bytes(raw, policy=policy.default)
    to = m["To"].addresses[0]
    plain, html = m.get_body(("plain",)), m.get_body(("html",))
    out.append({
        "file": f, "to": to.addr_spec, "to_name": to.display_name, "from": str(m["From"]),
        "subject": str(m["Subject"]), "message_id": str(m["Message-ID"]), "date": str(m["Date"]),
        "mime_version": str(m["MIME-Version"]), "type": m.get_content_type(),
        "parts": [p.get_content_type() for p in m.iter_parts()],
        "text": plain.get_content() if plain else None, "html": html.get_content() if html else None,
        "max_line": max(len(l) for l in raw.split(b"\r\n")),
        "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
        "defects": [type(d).__name__ for p in m.walk() for d in p.defects],
    })
print(json.dumps(out, ensure_ascii=False))
