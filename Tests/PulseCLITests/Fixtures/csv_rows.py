#!/usr/bin/env python3
"""Reads a CSV file with Python's csv module and prints its rows as JSON: for tests
that check that an export is real CSV (one table, every row as wide as the header).
Usage: csv_rows.py FILE"""
import csv, json, sys

with open(sys.argv[1], newline="", encoding="utf-8") as f:
    print(json.dumps(list(csv.reader(f))))
