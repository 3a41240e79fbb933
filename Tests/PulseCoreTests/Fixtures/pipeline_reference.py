#!/usr/bin/env python3
"""The pipeline KPIs of the contract, computed here independently of Pulse, from the
same CSV files (columns id, email, created, closed, status, amount and id, email,
created, converted; ISO dates; amounts as plain numbers).

Usage: pipeline_reference.py OPPORTUNITIES.csv LEADS.csv YEAR OUT.json
Writes {"email|YYYY-Www": {"opportunities_open": n, ...}} for every rep-week with a value."""
import csv, datetime, json, sys

opps_path, leads_path, year, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
day = datetime.date.fromisoformat

opps = {}
for r in csv.DictReader(open(opps_path, newline="", encoding="utf-8")):
    stage = " ".join(r["status"].strip().lower().replace("_", " ").replace("-", " ").split())
    status = {"won": "won", "closed won": "won", "closedwon": "won", "lost": "lost", "closed lost": "lost", "closedlost": "lost"}.get(stage, "open")
    closed = day(r["closed"].strip()) if status != "open" and r["closed"].strip() else None
    amount = float(r["amount"]) if r["amount"].strip() else None
    opps[r["id"].strip()] = (r["email"].strip().lower(), day(r["created"].strip()), closed, status, amount)
leads = {}
for r in csv.DictReader(open(leads_path, newline="", encoding="utf-8")):
    converted = day(r["converted"].strip()) if r["converted"].strip() else None
    leads[r["id"].strip()] = (r["email"].strip().lower(), day(r["created"].strip()), converted)

reps = sorted({o[0] for o in opps.values()} | {l[0] for l in leads.values()})
weeks = datetime.date(year, 12, 28).isocalendar()[1]
out = {}
for rep in reps:
    mine = [o for o in opps.values() if o[0] == rep]
    mine_leads = [l for l in leads.values() if l[0] == rep]
    for w in range(1, weeks + 1):
        sunday = datetime.date.fromisocalendar(year, w, 7)
        first = sunday - datetime.timedelta(days=90)  # the Monday twelve weeks before
        assert first.isoweekday() == 1
        row = {}
        started = [o for o in mine if o[1] <= sunday]
        if started:
            row["opportunities_open"] = sum(1 for o in started if o[2] is None or o[2] > sunday)
        closed = [o for o in mine if o[2] is not None and first <= o[2] <= sunday]
        won = [o for o in closed if o[3] == "won"]
        lost = [o for o in closed if o[3] == "lost"]
        if won:
            row["sales_cycle_days"] = sum((o[2] - o[1]).days for o in won) / len(won)
        if won or lost:
            row["win_rate_13w"] = len(won) / (len(won) + len(lost))
        amounts = [o[4] for o in won if o[4] is not None]
        if amounts:
            row["avg_deal_size_13w"] = sum(amounts) / len(amounts)
        keys = ("opportunities_open", "win_rate_13w", "avg_deal_size_13w", "sales_cycle_days")
        if all(k in row for k in keys) and row["sales_cycle_days"] > 0:
            row["pipeline_velocity"] = (row["opportunities_open"] * row["win_rate_13w"] * row["avg_deal_size_13w"]
                                        / row["sales_cycle_days"])
        came = [l for l in mine_leads if first <= l[1] <= sunday]
        if came:
            row["lead_conversion"] = sum(1 for l in came if l[2] is not None and l[2] <= sunday) / len(came)
        if row:
            out[f"{rep}|{year}-W{w:02d}"] = row
json.dump(out, open(out_path, "w"), indent=1, sort_keys=True)
