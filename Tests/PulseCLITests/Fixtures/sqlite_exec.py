#!/usr/bin/env python3
"""Runs SQL statements on an SQLite file with Python's sqlite3 and prints the rows as
JSON: for tests that look at or change a database from outside Pulse.

Usage: sqlite_exec.py DB SQL [SQL ...]; the SQL `.dump` prints the SHA-256 of the
database's SQL dump instead (two databases with the same content give the same)."""
import hashlib, json, sqlite3, sys

con = sqlite3.connect(sys.argv[1])
rows = []
for sql in sys.argv[2:]:
    if sql == ".dump":
        rows = [hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()]
        continue
    rows = [list(r) for r in con.execute(sql).fetchall()]
con.commit()
con.close()
print(json.dumps(rows))
