#!/usr/bin/env python3
"""Runs a command with its stdout and stderr on a pseudo-terminal, as a person at a
terminal would, and prints what the terminal received as JSON {"status", "output"}.

Usage: tty_run.py COMMAND [ARG ...]   (the environment is passed through)"""
import json, os, pty, sys

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
chunks = []
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not data:
        break
    chunks.append(data)
_, status = os.waitpid(pid, 0)
print(json.dumps({"status": os.waitstatus_to_exitcode(status),
                  "output": b"".join(chunks).decode("utf-8", "replace")}))
