#!/usr/bin/env python3
"""Posts forms from many connections at once (a thread pool) and prints one JSON list
of [index, status] (status "ERR" when the connection failed).

Usage: post_concurrent.py JOBS.json THREADS   (JOBS: [[url, "name=value&..."], ...])"""
import json, sys, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor

jobs = json.load(open(sys.argv[1]))


def post(item):
    i, (url, body) = item
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body.encode()), timeout=30) as r:
            return [i, r.status]
    except urllib.error.HTTPError as e:
        return [i, e.code]
    except Exception:
        return [i, "ERR"]


with ThreadPoolExecutor(max_workers=int(sys.argv[2])) as pool:
    print(json.dumps(list(pool.map(post, enumerate(jobs)))))
