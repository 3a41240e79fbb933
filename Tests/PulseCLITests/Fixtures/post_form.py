#!/usr/bin/env python3
"""Posts a form to a URL and prints the status: post_form.py URL name=value ..."""
import sys, urllib.error, urllib.parse, urllib.request

data = urllib.parse.urlencode([tuple(a.split("=", 1)) for a in sys.argv[2:]]).encode()
try:
    with urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=data)) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
