"""Reads CSV files with Python's csv module: the reference of CSVDifferentialTests.

    python3 csv_reference.py MANIFEST OUT

MANIFEST is a JSON list of {"path": ..., "delimiter": "," or ";"}; OUT receives a JSON
list, one entry per file, in order: {"error": message} when the csv module refuses the
file (strict mode: text after a closing quote, a quote never closed), else {"records":
[{"line": L, "fields": [...], "invalid": bool, "nul": [i, ...]}, ...]}, where L is the
physical line the record starts on (lines end at LF, CR or CRLF, as universal newlines
split them), "invalid" marks a record holding bytes that are not UTF-8 (decoded with
surrogateescape, shown as U+FFFD), and "nul" lists the fields holding a NUL. The first
record is the header. Blank lines come out as records with no fields.
"""
import csv
import io
import json
import re
import sys

csv.field_size_limit(sys.maxsize)
SURROGATE = re.compile("[\udc80-\udcff]")


def read(path, delimiter):
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="surrogateescape")
    escaped = SURROGATE.search(text) is not None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records, line = [], 0
    try:
        for row in reader:
            start = line + 1
            line = reader.line_num
            invalid = escaped and any(SURROGATE.search(f) for f in row)
            fields = [SURROGATE.sub("\ufffd", f) for f in row] if invalid else row
            nul = [i for i, f in enumerate(row) if "\x00" in f]
            records.append({"line": start, "fields": fields, "invalid": invalid, "nul": nul})
    except csv.Error as e:
        return {"error": str(e)}
    return {"records": records}


def main():
    manifest = json.load(open(sys.argv[1], encoding="utf-8"))
    out = [read(m["path"], m["delimiter"]) for m in manifest]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


main()
