#!/usr/bin/env python3
"""Posts forms one after another and prints, as each finishes, "STATUS INDEX" (or
"ERR INDEX" when the connection failed): for tests that kill the server meanwhile.

Usage: post_many.py JOBS.json DELAY_SECONDS   (JOBS: [[url, "name=value&..."], ...])"""
import json, sys, time, urllib.error, urllib.request

jobs = json.load(open(sys.argv[1]))
delay = float(sys.argv[2])
for i, (url, body) in enumerate(jobs):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body.encode()), timeout=5) as r:
            print(r.status, i, flush=True)
    except urllib.error.HTTPError as e:
        print(e.code, i, flush=True)
    except Exception:
        print("ERR", i, flush=True)
    time.sleep(delay)
