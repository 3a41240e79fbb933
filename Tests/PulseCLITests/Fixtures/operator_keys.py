#!/usr/bin/env python3
"""The operator with the key file and every personal link, looking for what ties a
stored anonymous answer to a link: for each token, its SHA-256 and HMAC-SHA-256s of it
under the key (as "edit|TOKEN", as TOKEN), compared with every value of every row of
the response and answer tables. Prints JSON {"values": N, "matches": M}.

Usage: operator_keys.py DB KEYFILE TOKEN...; with --every-invitation instead of tokens,
every invitation's token is first recomputed from the key (HMAC-SHA-256 of
"pulse-token|ROUND|INVITATION", base64url), as whoever holds the key file can."""
import base64, hashlib, hmac, json, sqlite3, sys

db, keyfile, tokens = sys.argv[1], sys.argv[2], sys.argv[3:]
key = open(keyfile, "rb").read()
if tokens == ["--every-invitation"]:
    con = sqlite3.connect(db)
    tokens = [base64.urlsafe_b64encode(hmac.new(key, f"pulse-token|{r}|{i}".encode(), hashlib.sha256).digest()).decode().rstrip("=")
              for i, r in con.execute("SELECT id, round_id FROM invitation")]
    con.close()
derived = set()
for t in tokens:
    derived.add(hashlib.sha256(t.encode()).digest())
    for message in ("edit|" + t, t):
        derived.add(hmac.new(key, message.encode(), hashlib.sha256).digest())
con = sqlite3.connect(db)
values = matches = 0
for table in ("response", "answer"):
    for row in con.execute(f"SELECT * FROM {table}"):
        for v in row:
            values += 1
            if isinstance(v, bytes) and v in derived:
                matches += 1
            elif isinstance(v, str) and any(v == d.hex() for d in derived):
                matches += 1
print(json.dumps({"tokens": len(tokens), "values": values, "matches": matches}))
