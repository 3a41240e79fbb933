#!/usr/bin/env python3
"""Where each row of a table (or each entry of an index, by the rowid it ends with) sits
in an SQLite file, read from the file's pages as an attacker would (not through SQLite):
prints JSON {rowid: [page, offset]}.

Usage: sqlite_cells.py DB TABLE-OR-INDEX. Only the name and root page come from
sqlite_master; the rest is the B-tree format of https://www.sqlite.org/fileformat.html."""
import json, sqlite3, struct, sys

db, table = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
root = con.execute("SELECT rootpage FROM sqlite_master WHERE type IN ('table', 'index') AND name = ?", (table,)).fetchone()[0]
con.close()
data = open(db, "rb").read()
page_size = struct.unpack(">H", data[16:18])[0]
page_size = 65536 if page_size == 1 else page_size

def varint(buf, i):
    n = 0
    for k in range(9):
        b = buf[i + k]
        if k == 8:
            return (n << 8) | b, i + 9
        n = (n << 7) | (b & 0x7F)
        if b < 0x80:
            return n, i + k + 1

def record_rowid(at):
    """The last value of the record at `at` (an index entry's rowid); records here are small."""
    header_size, i = varint(data, at)
    end = at + header_size
    sizes = []
    while i < end:
        t, i = varint(data, i)
        sizes.append({0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 7: 8, 8: 0, 9: 0}.get(t, (t - 12) // 2 if t >= 12 else 0))
    start = end + sum(sizes[:-1])
    n = sizes[-1]
    value = int.from_bytes(data[start:start + n], "big", signed=True) if n else (t - 8 if t in (8, 9) else 0)
    return value

cells = {}
def walk(page):
    base = (page - 1) * page_size
    header = base + (100 if page == 1 else 0)
    kind = data[header]
    count = struct.unpack(">H", data[header + 3:header + 5])[0]
    pointers = header + (12 if kind in (0x02, 0x05) else 8)
    for c in range(count):
        offset = struct.unpack(">H", data[pointers + 2 * c:pointers + 2 * c + 2])[0]
        at = base + offset
        if kind == 0x0D:  # table leaf: payload size, rowid
            _, i = varint(data, at)
            rowid, _ = varint(data, i)
            cells[rowid] = [page, offset]
        elif kind == 0x05:  # table interior: left child, key
            walk(struct.unpack(">I", data[at:at + 4])[0])
        elif kind == 0x0A:  # index leaf: payload size, record
            _, i = varint(data, at)
            cells[record_rowid(i)] = [page, offset]
        elif kind == 0x02:  # index interior: left child, payload size, record (an entry too)
            walk(struct.unpack(">I", data[at:at + 4])[0])
            _, i = varint(data, at + 4)
            cells[record_rowid(i)] = [page, offset]
    if kind in (0x05, 0x02):
        walk(struct.unpack(">I", data[header + 8:header + 12])[0])

walk(root)
print(json.dumps({str(k): v for k, v in cells.items()}))
