#!/usr/bin/env python3
"""KPI and report benchmark: N reps x 52 weekly answers and 5 activity rows per rep-week,
one opportunity and two leads per rep-week, imported with `pulse`, then `pulse enps --by
team`, `pulse trends --by team`, `pulse correlate --kpi calls` and `--kpi
pipeline_velocity` over the year, each with its peak memory; beside them, in the same
run, DuckDB (PyPI `duckdb`) loading the same CSV files and computing the same aggregates,
the tool an analyst would reach for. The pipeline velocity correlation is checked: DuckDB's
n and r must equal Pulse's.

With --postgres (a server's postgresql:// URL, as scripts/pg-cluster prints it), the same
on PostgreSQL: the SQLite workspace copied over whole (`pulse db copy`), the same reports
on the copy, and the KPI import into a new database; each beside the same DuckDB figure.

Usage: Benchmarks/kpi.py PULSE_BINARY [--reps 20000] [--postgres URL]"""
import argparse, csv, json, datetime, os, random, re, shutil, subprocess, sys, tempfile, time, uuid

p = argparse.ArgumentParser()
p.add_argument("pulse")
p.add_argument("--reps", type=int, default=20000)
p.add_argument("--keep", action="store_true", help="keep the generated files")
p.add_argument("--json", help="also write the figures to this file (for Benchmarks/run)")
p.add_argument("--postgres", help="also run on new databases on this PostgreSQL server")
a = p.parse_args()
pulse = os.path.abspath(a.pulse)
try:
    import duckdb
except ImportError:
    sys.exit("duckdb not found: python3 -m pip install duckdb")

work = tempfile.mkdtemp(prefix="pulse-bench-kpi-")
env = dict(os.environ, PULSE_DB=f"{work}/pulse.sqlite", PULSE_CONFIG=f"{work}/pulse.yaml",
           PULSE_SURVEYS=f"{work}/Surveys", NO_COLOR="1")
weeks = [f"2026-W{w:02d}" for w in range(1, 53)]
teams = [f"team{t:03d}" for t in range(max(1, a.reps // 12))]


def generate():
    rng = random.Random(52)
    os.makedirs(f"{work}/Surveys")
    with open(f"{work}/Surveys/bench.yaml", "w") as f:
        f.write("id: bench\ntitle: Bench\nanonymity: identified\nquestions:\n"
                "  - {id: energy, type: scale, text: Energy, min: 1, max: 5}\n"
                "  - {id: support, type: scale, text: Support, min: 1, max: 5}\n"
                "  - {id: enps, type: enps, text: Recommend?}\n")
    with open(f"{work}/roster.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "name", "team"])
        for i in range(a.reps):
            w.writerow([f"r{i}@acme.example", f"Rep {i}", teams[i % len(teams)]])
    with open(f"{work}/responses.csv", "w", newline="") as rf, open(f"{work}/activity.csv", "w", newline="") as af:
        r, act = csv.writer(rf), csv.writer(af)
        r.writerow(["email", "survey", "period", "energy", "support", "enps"])
        act.writerow(["email", "date", "calls", "emails", "meetings", "deals_won", "deals_lost", "revenue_won"])
        for i in range(a.reps):
            email, base = f"r{i}@acme.example", rng.random()
            for wk in range(1, 53):
                mood = min(1, max(0, base + rng.gauss(0, 0.15)))
                r.writerow([email, "bench", f"2026-W{wk:02d}", 1 + int(mood * 4.99), 1 + int(rng.random() * 4.99),
                            min(10, int(mood * 11))])
                monday = datetime.date.fromisocalendar(2026, wk, 1)
                for d in range(5):
                    won = 1 if rng.random() < 0.1 else 0
                    act.writerow([email, (monday + datetime.timedelta(days=d)).isoformat(), int(10 + 20 * mood + rng.random() * 5),
                                  int(20 * rng.random()), int(3 * rng.random()), won, 1 if rng.random() < 0.1 else 0,
                                  f"{won * rng.randint(1000, 9000)}.00"])
    # One opportunity and two leads per rep-week; what closes after the data's last day
    # is exported open with its expected close date, as Salesforce does.
    end = datetime.date(2026, 12, 27)
    with open(f"{work}/opportunities.csv", "w", newline="") as of, open(f"{work}/leads.csv", "w", newline="") as lf:
        o, l = csv.writer(of), csv.writer(lf)
        o.writerow(["id", "email", "created", "closed", "status", "amount"])
        l.writerow(["id", "email", "created", "converted"])
        n = 0
        for i in range(a.reps):
            email, skill = f"r{i}@acme.example", 0.2 + 0.6 * rng.random()
            for wk in range(1, 53):
                n += 1
                created = datetime.date.fromisocalendar(2026, wk, 1 + rng.randrange(5))
                closed = created + datetime.timedelta(days=rng.randint(7, 90))
                status = "Negotiation" if closed > end else "Closed Won" if rng.random() < skill else "Closed Lost"
                o.writerow([f"O{n}", email, created.isoformat(), closed.isoformat(), status, f"{rng.randint(10, 900) * 100}.00"])
                for k in range(2):
                    came = created + datetime.timedelta(days=rng.randrange(7))
                    converted = came + datetime.timedelta(days=rng.randint(1, 40)) if rng.random() < 0.3 else None
                    l.writerow([f"L{n}-{k}", email, came.isoformat(),
                                converted.isoformat() if converted and converted <= end else ""])


def timed(*args, on=None):
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", pulse, *args], cwd=work, env=on or env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"pulse {' '.join(args)} failed: {r.stderr[-500:]}")
    return seconds, int(r.stderr.strip().splitlines()[-1]) / 1024


def duck(sql_setup, sql):
    con = duckdb.connect()
    for s in sql_setup:
        con.execute(s)
    start = time.perf_counter()
    con.execute(sql).fetchall()
    return time.perf_counter() - start


try:
    t0 = time.perf_counter()
    generate()
    gen = time.perf_counter() - t0
    activity_rows, response_rows = a.reps * 52 * 5, a.reps * 52
    opportunity_rows, lead_rows = a.reps * 52, a.reps * 52 * 2
    subprocess.run([pulse, "init"], cwd=work, env=env, check=True, capture_output=True)
    timed("roster", "import", "roster.csv")
    resp_s, resp_mb = timed("responses", "import", "responses.csv")
    kpi_s, kpi_mb = timed("kpi", "import", "activity.csv")
    opp_s, opp_mb = timed("kpi", "import", "--opportunities", "opportunities.csv")
    lead_s, lead_mb = timed("kpi", "import", "--leads", "leads.csv")
    enps_s, enps_mb = timed("enps", "--survey", "bench", "--from", weeks[0], "--to", weeks[-1], "--by", "team", "--format", "json")
    trends_s, trends_mb = timed("trends", "--survey", "bench", "--from", weeks[0], "--to", weeks[-1], "--by", "team", "--format", "json")
    corr_s, corr_mb = timed("correlate", "--survey", "bench", "--kpi", "calls", "--from", weeks[0], "--to", weeks[-1], "--format", "json")
    velocity_args = ["correlate", "--survey", "bench", "--kpi", "pipeline_velocity", "--from", weeks[0], "--to", weeks[-1], "--format", "json"]
    vel_s, vel_mb = timed(*velocity_args)
    velocity = json.loads(subprocess.run([pulse, *velocity_args], cwd=work, env=env, capture_output=True, text=True, check=True).stdout)
    # The one-on-one issue's figures on the same data: one note, a team of 12, the team report.
    prep_s, prep_mb = timed("prep", "r0@acme.example", "--as-of", "2026-12-27", "--format", "json")
    team_size = sum(1 for i in range(a.reps) if i % len(teams) == 0)
    prep_team_s, prep_team_mb = timed("prep", "--team", teams[0], "--as-of", "2026-12-27", "--format", "html", "--out", f"{work}/prep")
    report_s, report_mb = timed("report", "--team", teams[0], "--survey", "bench", "--as-of", "2026-12-27", "--format", "html",
                                "--out", f"{work}/reports")

    setup = [f"CREATE TABLE roster AS SELECT * FROM read_csv_auto('{work}/roster.csv')",
             f"CREATE TABLE resp AS SELECT * FROM read_csv_auto('{work}/responses.csv')",
             f"CREATE TABLE act AS SELECT * FROM read_csv_auto('{work}/activity.csv')"]
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(setup[2])
    duck_load = time.perf_counter() - start
    start = time.perf_counter()
    con.execute(setup[1])
    duck_resp_load = time.perf_counter() - start
    con.execute("DROP TABLE resp")
    opp_setup = f"CREATE TABLE opp AS SELECT * FROM read_csv_auto('{work}/opportunities.csv')"
    lead_setup = f"CREATE TABLE lead AS SELECT * FROM read_csv_auto('{work}/leads.csv')"
    start = time.perf_counter()
    con.execute(opp_setup)
    duck_opp_load = time.perf_counter() - start
    start = time.perf_counter()
    con.execute(lead_setup)
    duck_lead_load = time.perf_counter() - start
    con.close()
    duck_enps = duck(setup[:2], """
        SELECT team, 100.0 * (count(*) FILTER (WHERE enps >= 9) - count(*) FILTER (WHERE enps <= 6)) / count(*)
        FROM resp JOIN roster USING (email) GROUP BY team""")
    duck_trends = duck(setup[:2], """
        SELECT team, period, avg(m) FROM (
          SELECT email, period, avg(100.0 * ((energy - 1) / 4.0 + (support - 1) / 4.0) / 2) AS m FROM resp GROUP BY email, period)
        JOIN roster USING (email) GROUP BY team, period""")
    duck_corr = duck(setup[1:], """
        WITH w AS (SELECT email, strftime(date, '%G-W%V') AS period, sum(calls) AS calls FROM act GROUP BY ALL),
             m AS (SELECT email, period, avg(100.0 * ((energy - 1) / 4.0 + (support - 1) / 4.0) / 2) AS m FROM resp GROUP BY ALL)
        SELECT corr(m, calls), count(*) FROM m JOIN w USING (email, period)""")

    # The contract's pipeline velocity per rep-week (2026-W01 starts on 2025-12-29), against
    # morale: n and Pearson's r, as `correlate` computes them.
    velocity_sql = """
        WITH wk AS (SELECT 'W' || lpad(CAST(w + 1 AS VARCHAR), 2, '0') AS week, DATE '2025-12-29' + CAST(7 * w + 6 AS INTEGER) AS sunday
                    FROM range(52) t(w)),
             o AS (SELECT email, created, CASE WHEN status IN ('Closed Won', 'Closed Lost') THEN closed END AS closed,
                          status = 'Closed Won' AS won, status = 'Closed Lost' AS lost, amount FROM opp),
             q AS (SELECT email, '2026-' || week AS period,
                          count(*) FILTER (WHERE closed IS NULL OR closed > sunday) AS open,
                          count(*) FILTER (WHERE won AND closed BETWEEN sunday - 90 AND sunday) AS n_won,
                          count(*) FILTER (WHERE lost AND closed BETWEEN sunday - 90 AND sunday) AS n_lost,
                          avg(closed - created) FILTER (WHERE won AND closed BETWEEN sunday - 90 AND sunday) AS cycle,
                          avg(amount) FILTER (WHERE won AND closed BETWEEN sunday - 90 AND sunday) AS size
                   FROM o JOIN wk ON o.created <= wk.sunday GROUP BY ALL),
             v AS (SELECT email, period, open * (n_won / (n_won + n_lost)) * size / cycle AS velocity FROM q
                   WHERE n_won > 0 AND cycle > 0),
             m AS (SELECT email, period, avg(100.0 * ((energy - 1) / 4.0 + (support - 1) / 4.0) / 2) AS m FROM resp GROUP BY ALL)
        SELECT corr(m, velocity), count(*) FROM m JOIN v USING (email, period)"""
    con = duckdb.connect()
    con.execute(setup[1])
    con.execute(opp_setup)
    start = time.perf_counter()
    duck_r, duck_n = con.execute(velocity_sql).fetchone()
    duck_vel = time.perf_counter() - start
    con.close()
    pulse_r = velocity["pearson"]["r"] if velocity.get("pearson") else None
    if velocity.get("n") != duck_n or pulse_r is None or abs(pulse_r - duck_r) > 0.001:
        sys.exit(f"correlate --kpi pipeline_velocity disagrees with DuckDB: n {velocity.get('n')} against {duck_n}, "
                 f"r {pulse_r} against {duck_r}")

    pg = {}
    if a.postgres:
        def new_database():
            name = "pulse_bench_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", a.postgres, "-qAtc", f"CREATE DATABASE {name}"], check=True)
            return re.sub(r"/[^/]+$", "/" + name, a.postgres)
        copied, fresh = new_database(), new_database()
        pg["copy"] = timed("db", "copy", "--to", copied)
        penv = dict(env, PULSE_DB=copied)
        pg["enps"] = timed("enps", "--survey", "bench", "--from", weeks[0], "--to", weeks[-1], "--by", "team", "--format", "json", on=penv)
        pg["trends"] = timed("trends", "--survey", "bench", "--from", weeks[0], "--to", weeks[-1], "--by", "team", "--format", "json", on=penv)
        pg["corr"] = timed("correlate", "--survey", "bench", "--kpi", "calls", "--from", weeks[0], "--to", weeks[-1], "--format", "json", on=penv)
        pg["prep"] = timed("prep", "r0@acme.example", "--as-of", "2026-12-27", "--format", "json", on=penv)
        pg["report"] = timed("report", "--team", teams[0], "--survey", "bench", "--as-of", "2026-12-27", "--format", "html",
                             "--out", f"{work}/reports-pg", on=penv)
        fenv = dict(env, PULSE_DB=fresh)
        subprocess.run([pulse, "init"], cwd=work, env=fenv, check=True, capture_output=True)
        timed("roster", "import", "roster.csv", on=fenv)
        pg["resp"] = timed("responses", "import", "responses.csv", on=fenv)
        pg["kpi"] = timed("kpi", "import", "activity.csv", on=fenv)
        pg["opp"] = timed("kpi", "import", "--opportunities", "opportunities.csv", on=fenv)
        pg["lead"] = timed("kpi", "import", "--leads", "leads.csv", on=fenv)
        pg["vel"] = timed(*velocity_args, on=fenv)
        pg_velocity = json.loads(subprocess.run([pulse, *velocity_args], cwd=work, env=fenv, capture_output=True, text=True,
                                                check=True).stdout)
        if pg_velocity.get("n") != velocity.get("n") or abs(pg_velocity["pearson"]["r"] - pulse_r) > 1e-9:
            sys.exit(f"correlate --kpi pipeline_velocity differs on PostgreSQL: {pg_velocity} against {velocity}")
        copied_rows = int(subprocess.run(["psql", copied, "-qAtc", "SELECT (SELECT COUNT(*) FROM response) + (SELECT COUNT(*) FROM answer)"
                                          " + (SELECT COUNT(*) FROM activity) + (SELECT COUNT(*) FROM rep)"
                                          " + (SELECT COUNT(*) FROM opportunity) + (SELECT COUNT(*) FROM lead)"],
                                         check=True, capture_output=True, text=True).stdout.strip())

    print(f"kpi: {a.reps} reps x 52 weeks: {response_rows} responses, {activity_rows} activity rows, "
          f"{opportunity_rows} opportunities, {lead_rows} leads (generated in {gen:.0f} s)")
    print(f"{'':40}{'pulse s':>9}{'peak MiB':>10}{'duckdb s':>10}")
    print(f"{'kpi import (' + str(activity_rows) + ' rows)':40}{kpi_s:9.2f}{kpi_mb:10.0f}{duck_load:10.2f}"
          f"   {activity_rows / kpi_s:,.0f} rows/s")
    print(f"{'responses import':40}{resp_s:9.2f}{resp_mb:10.0f}{duck_resp_load:10.2f}   {response_rows / resp_s:,.0f} rows/s")
    print(f"{'opportunities import':40}{opp_s:9.2f}{opp_mb:10.0f}{duck_opp_load:10.2f}   {opportunity_rows / opp_s:,.0f} rows/s")
    print(f"{'leads import':40}{lead_s:9.2f}{lead_mb:10.0f}{duck_lead_load:10.2f}   {lead_rows / lead_s:,.0f} rows/s")
    print(f"{'enps --by team, the year':40}{enps_s:9.2f}{enps_mb:10.0f}{duck_enps:10.2f}")
    print(f"{'trends --by team, the year':40}{trends_s:9.2f}{trends_mb:10.0f}{duck_trends:10.2f}")
    print(f"{'correlate --kpi calls, the year':40}{corr_s:9.2f}{corr_mb:10.0f}{duck_corr:10.2f}")
    print(f"{'correlate --kpi pipeline_velocity':40}{vel_s:9.2f}{vel_mb:10.0f}{duck_vel:10.2f}"
          f"   n {duck_n}, r {pulse_r} (DuckDB {duck_r:.4f})")
    print(f"{'prep, one rep (goal < 0.1 s)':40}{prep_s:9.2f}{prep_mb:10.0f}")
    print(f"{'prep --team, ' + str(team_size) + ' reps as html (goal < 1 s)':40}{prep_team_s:9.2f}{prep_team_mb:10.0f}")
    print(f"{'report --team as html (goal < 2 s)':40}{report_s:9.2f}{report_mb:10.0f}")
    if pg:
        print("on PostgreSQL:")
        print(f"{'db copy of the workspace (' + str(copied_rows) + ' rows)':40}{pg['copy'][0]:9.2f}{pg['copy'][1]:10.0f}{'':>10}"
              f"   {copied_rows / pg['copy'][0]:,.0f} rows/s")
        print(f"{'kpi import (' + str(activity_rows) + ' rows)':40}{pg['kpi'][0]:9.2f}{pg['kpi'][1]:10.0f}{duck_load:10.2f}"
              f"   {activity_rows / pg['kpi'][0]:,.0f} rows/s")
        print(f"{'responses import':40}{pg['resp'][0]:9.2f}{pg['resp'][1]:10.0f}{duck_resp_load:10.2f}"
              f"   {response_rows / pg['resp'][0]:,.0f} rows/s")
        print(f"{'opportunities import':40}{pg['opp'][0]:9.2f}{pg['opp'][1]:10.0f}{duck_opp_load:10.2f}"
              f"   {opportunity_rows / pg['opp'][0]:,.0f} rows/s")
        print(f"{'leads import':40}{pg['lead'][0]:9.2f}{pg['lead'][1]:10.0f}{duck_lead_load:10.2f}"
              f"   {lead_rows / pg['lead'][0]:,.0f} rows/s")
        print(f"{'enps --by team, the year':40}{pg['enps'][0]:9.2f}{pg['enps'][1]:10.0f}{duck_enps:10.2f}")
        print(f"{'trends --by team, the year':40}{pg['trends'][0]:9.2f}{pg['trends'][1]:10.0f}{duck_trends:10.2f}")
        print(f"{'correlate --kpi calls, the year':40}{pg['corr'][0]:9.2f}{pg['corr'][1]:10.0f}{duck_corr:10.2f}")
        print(f"{'correlate --kpi pipeline_velocity':40}{pg['vel'][0]:9.2f}{pg['vel'][1]:10.0f}{duck_vel:10.2f}")
        print(f"{'prep, one rep':40}{pg['prep'][0]:9.2f}{pg['prep'][1]:10.0f}")
        print(f"{'report --team as html':40}{pg['report'][0]:9.2f}{pg['report'][1]:10.0f}")
    if a.json:
        def row(figure, pulse, ref, goal, met, better=False, ref_name="DuckDB"):
            return {"figure": figure, "pulse": pulse, "reference": ref, "reference_name": ref_name if ref is not None else "",
                    "higher_is_better": better, "goal": goal, "met": met}
        rate = activity_rows / kpi_s
        json.dump({"rows": [
            row(f"kpi import, {activity_rows} rows (rows/s)", rate, activity_rows / duck_load, ">= 500,000 rows/s", rate >= 500_000, True),
            row("kpi import peak memory (MiB)", kpi_mb, None, "< 300 MB", kpi_mb < 300),
            row(f"responses import, {response_rows} rows (rows/s)", response_rows / resp_s, response_rows / duck_resp_load, "", None, True),
            row("enps --by team, the year (s)", enps_s, duck_enps, "< 1 s, <= DuckDB", enps_s < 1 and enps_s <= duck_enps),
            row("trends --by team, the year (s)", trends_s, duck_trends, "< 1 s, <= DuckDB", trends_s < 1 and trends_s <= duck_trends),
            row("correlate --kpi calls, the year (s)", corr_s, duck_corr, "< 1 s, <= DuckDB", corr_s < 1 and corr_s <= duck_corr),
            row("correlate peak memory (MiB)", corr_mb, None, "< 300 MB", corr_mb < 300),
            row(f"opportunities import, {opportunity_rows} rows (rows/s)", opportunity_rows / opp_s, opportunity_rows / duck_opp_load,
                ">= DuckDB", opportunity_rows / opp_s >= opportunity_rows / duck_opp_load, True),
            row(f"leads import, {lead_rows} rows (rows/s)", lead_rows / lead_s, lead_rows / duck_lead_load, ">= DuckDB",
                lead_rows / lead_s >= lead_rows / duck_lead_load, True),
            row("correlate --kpi pipeline_velocity (s)", vel_s, duck_vel, "<= DuckDB", vel_s <= duck_vel),
            row("prep, one rep (s)", prep_s, None, "< 0.1 s", prep_s < 0.1),
            row(f"prep --team, {team_size} reps (s)", prep_team_s, None, "< 1 s", prep_team_s < 1),
            row("report --team (s)", report_s, None, "< 2 s", report_s < 2),
        ] + ([
            row(f"PostgreSQL: db copy, {copied_rows} rows (rows/s)", copied_rows / pg["copy"][0], None, "", None, True),
            row(f"PostgreSQL: responses import (rows/s)", response_rows / pg["resp"][0], response_rows / duck_resp_load, "", None, True),
            row(f"PostgreSQL: kpi import (rows/s)", activity_rows / pg["kpi"][0], activity_rows / duck_load, "", None, True),
            row("PostgreSQL: enps --by team, the year (s)", pg["enps"][0], duck_enps, "", None),
            row("PostgreSQL: trends --by team, the year (s)", pg["trends"][0], duck_trends, "", None),
            row("PostgreSQL: correlate --kpi calls (s)", pg["corr"][0], duck_corr, "", None),
            row("PostgreSQL: opportunities import (rows/s)", opportunity_rows / pg["opp"][0], opportunity_rows / duck_opp_load, "", None, True),
            row("PostgreSQL: leads import (rows/s)", lead_rows / pg["lead"][0], lead_rows / duck_lead_load, "", None, True),
            row("PostgreSQL: correlate --kpi pipeline_velocity (s)", pg["vel"][0], duck_vel, "", None),
            row("PostgreSQL: prep, one rep (s)", pg["prep"][0], None, "< 0.1 s", pg["prep"][0] < 0.1),
            row("PostgreSQL: report --team (s)", pg["report"][0], None, "< 2 s", pg["report"][0] < 2),
        ] if pg else [])}, open(a.json, "w"))
finally:
    if a.keep:
        print(f"files kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
