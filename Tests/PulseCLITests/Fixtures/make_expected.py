#!/usr/bin/env python3
"""Writes the CLI fixtures (roster.csv, responses.csv) and expected.json: the figures
of `pulse enps` and `pulse trends` computed here, independently of Pulse, straight from
the definitions in contract.md. A dev tool: run it to regenerate; the tests only read
its output. Rounding is half away from zero, done with Decimal."""
import csv, json, math, random
from decimal import Decimal, ROUND_HALF_UP
from pathlib import Path

here = Path(__file__).parent
rnd = random.Random(7)
teams = {"north": 7, "south": 6, "east": 3, "west": 5}
reps = []
for t, n in teams.items():
    for i in range(n):
        reps.append({"email": f"{t}{i}@example.org", "name": f"{t.title()} {i}", "team": t,
                     "manager_email": f"lead.{t}@example.org", "region": "EMEA" if t in ("north", "west") else "APAC"})
with open(here / "roster.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=["email", "name", "team", "manager_email", "region"])
    w.writeheader(); w.writerows(reps)

weeks = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
rows = []
for r in reps:
    for wk in weeks:
        if rnd.random() < 0.1:
            continue  # no answer this week
        rows.append({"email": r["email"], "survey": "check", "period": wk, "mood": rnd.randint(1, 7),
                     "focus": rnd.randint(0, 4), "enps": min(10, max(0, round(rnd.gauss(7.5, 2.2)))),
                     "note": rnd.choice(["", "", "ok, \"fine\"", "line one\nline two", "สบายดี"])})
with open(here / "responses.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=["email", "survey", "period", "mood", "focus", "enps", "note"])
    w.writeheader(); w.writerows(rows)

MIN = 5
def r1(x): return float(Decimal(repr(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) if x >= 0 else -r1(-x)
def r3(x): return float(Decimal(repr(x)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))
team_of = {r["email"]: r for r in reps}

def suppress(counts):
    hidden = {g for g, n in counts.items() if 0 < n < MIN}
    if len(hidden) == 1:
        rest = sorted((n, g) for g, n in counts.items() if g not in hidden and n > 0)
        if rest:
            hidden.add(rest[0][1])
    return hidden

def enps(period_set, by):
    sel = [x for x in rows if x["period"] in period_set]
    groups = {}
    for x in sel:
        g = "all" if by == "all" else team_of[x["email"]][by]
        groups.setdefault(g, []).append(x)
    counts = {g: len({x["email"] for x in xs}) for g, xs in groups.items()}
    hidden = suppress(counts)
    out = []
    for g in sorted(groups):
        xs = groups[g]
        if g in hidden:
            out.append({"group": g, "suppressed": True}); continue
        n = len(xs); P = sum(x["enps"] >= 9 for x in xs); D = sum(x["enps"] <= 6 for x in xs)
        p, q = P / n, D / n
        half = 1.959963984540054 * math.sqrt((p + q - (p - q) ** 2) / n)
        exact = Decimal(100 * (P - D)) / Decimal(n)
        e = float(abs(exact).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) * (1 if exact >= 0 else -1)
        out.append({"group": g, "responses": n, "respondents": counts[g], "promoters": P, "passives": n - P - D,
                    "detractors": D, "enps": e,
                    "ci95": [r1(max(-100, 100 * (p - q - half))), r1(min(100, 100 * (p - q + half)))],
                    "suppressed": False})
    return out

def morale(x): return (100 * (x["mood"] - 1) / 6 + 100 * x["focus"] / 4) / 2

def trends(by):
    series = {}
    for wk in weeks:
        cells = {}
        for x in rows:
            if x["period"] != wk: continue
            g = "all" if by == "all" else team_of[x["email"]][by]
            cells.setdefault(g, {}).setdefault(x["email"], []).append(morale(x))
        hidden = suppress({g: len(v) for g, v in cells.items()})
        for g in teams if by == "team" else ["all"]:
            reps_ = cells.get(g, {})
            if g in hidden:
                pt = {"period": wk, "morale": None, "respondents": None, "suppressed": True}
            elif not reps_:
                pt = {"period": wk, "morale": None, "respondents": 0, "suppressed": False}
            else:
                m = sum(sum(v) / len(v) for v in reps_.values()) / len(reps_)
                pt = {"period": wk, "morale": r1(m), "respondents": len(reps_), "suppressed": False}
            series.setdefault(g, []).append(pt)
    return [{"group": g, "points": series[g]} for g in sorted(series)]

expected = {
    "enps_w47_team": enps({"2026-W47"}, "team"),
    "enps_all_range": enps(set(weeks), "all"),
    "enps_range_region": enps(set(weeks), "region"),
    "trends_team": trends("team"),
    "trends_all": trends("all"),
}
(here / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
print(f"{len(reps)} reps, {len(rows)} responses")
