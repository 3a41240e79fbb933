#!/usr/bin/env python3
"""GETs a URL and prints the body (whatever its status): fetch_page.py URL"""
import sys, urllib.error, urllib.request

try:
    with urllib.request.urlopen(sys.argv[1]) as r:
        print(r.read().decode("utf-8"))
except urllib.error.HTTPError as e:
    print(e.read().decode("utf-8"))
