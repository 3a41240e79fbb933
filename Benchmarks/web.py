#!/usr/bin/env python3
"""Answer-page benchmark: wrk against `pulse serve` over a database of N reps (GET and
POST of /s/{token}, rotating over many reps' tokens), beside a minimal Hummingbird
server that returns a fixed page of the same size, in the same run.

Usage: Benchmarks/web.py PULSE_BINARY FIXED_PAGE_BINARY [--reps 10000] [--seconds 10]
                         [--postgres URL --servers 2]
With --postgres (a server's postgresql:// URL, as scripts/pg-cluster prints it), the
workspace is a new database on that server and --servers `pulse serve` run on it at
once, each under its own wrk with its share of the connections (the figures are their
sums; p99 the worst). Needs wrk (scripts/setup --bench), and psql for --postgres."""
import argparse, email, json, os, re, shutil, socket, subprocess, sys, tempfile, time
from email import policy

p = argparse.ArgumentParser()
p.add_argument("pulse")
p.add_argument("fixed")
p.add_argument("--reps", type=int, default=10000)
p.add_argument("--seconds", type=int, default=10)
p.add_argument("--connections", type=int, default=32)
p.add_argument("--tokens", type=int, default=500)
p.add_argument("--json", help="also write the figures to this file (for Benchmarks/run)")
p.add_argument("--postgres", help="run on a new database on this PostgreSQL server")
p.add_argument("--servers", type=int, default=1, help="pulse serve instances on the one database")
a = p.parse_args()
pulse, fixed = os.path.abspath(a.pulse), os.path.abspath(a.fixed)
if not shutil.which("wrk"):
    sys.exit("wrk not found: scripts/setup --bench installs it")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def parse(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, ms, int(errors.group(1)) if errors else 0


def wrk(url, script):
    return wrk_all([url], script)


def wrk_all(urls, script):
    """wrk against each URL at once, the connections shared out: summed req/s, worst p99."""
    c = max(1, a.connections // len(urls))
    runs = [subprocess.Popen(["wrk", "-t2" if len(urls) == 1 else "-t1", f"-c{c}", f"-d{a.seconds}s", "--latency", "-s", script, url],
                             stdout=subprocess.PIPE, text=True) for url in urls]
    results = [parse(r.communicate()[0]) for r in runs]
    return sum(r[0] for r in results), max(r[1] for r in results), sum(r[2] for r in results)


work = tempfile.mkdtemp(prefix="pulse-bench-web-")
procs = []
try:
    port = free_port()
    db = f"{work}/pulse.sqlite"
    if a.postgres:
        name = "bench" + str(os.getpid())
        subprocess.run(["psql", a.postgres, "-qAtc", f"CREATE DATABASE {name}"], check=True)
        db = re.sub(r"/[^/]+$", "/" + name, a.postgres)
    env = dict(os.environ, PULSE_DB=db, PULSE_CONFIG=f"{work}/pulse.yaml", PULSE_TOKEN_KEY="YmVuY2htYXJrLWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE=",
               PULSE_SURVEYS=f"{work}/Surveys", PULSE_NOW="2026-11-23T10:00:00Z", NO_COLOR="1")
    subprocess.run([pulse, "init"], cwd=work, env=env, check=True, capture_output=True)
    with open(f"{work}/pulse.yaml", "w") as f:
        f.write(f"organization: Acme Sales\nbase_url: http://127.0.0.1:{port}\nmail:\n  transport: file\n  outbox_dir: {work}/outbox\n")
    with open(f"{work}/roster.csv", "w") as f:
        f.write("email,name,team,locale\n")
        for i in range(a.reps):
            f.write(f"rep{i:05d}@acme.example,Rep {i},team{i % 40:02d},{['en', 'th', 'ms', 'ru'][i % 4]}\n")
    subprocess.run([pulse, "roster", "import", "roster.csv"], cwd=work, env=env, check=True, capture_output=True)
    subprocess.run([pulse, "send", "weekly-pulse", "--period", "2026-W48"], cwd=work, env=env, check=True, capture_output=True)
    tokens = []
    for name in sorted(os.listdir(f"{work}/outbox"))[: a.tokens]:
        m = email.message_from_bytes(open(f"{work}/outbox/{name}", "rb").read(), policy=policy.default)
        tokens.append(re.search(r"/s/([A-Za-z0-9_-]{43})", m.get_body(("plain",)).get_content()).group(1))
    lua_tokens = "tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\ni = 0\n"
    with open(f"{work}/get.lua", "w") as f:
        f.write(lua_tokens + 'request = function()\n  i = i % #tokens + 1\n  return wrk.format("GET", "/s/" .. tokens[i])\nend\n')
    with open(f"{work}/post.lua", "w") as f:
        f.write(lua_tokens + 'wrk.method = "POST"\nwrk.body = "energy=4&workload=3&support=5&quota_confidence=2&comment=fine"\n'
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                'request = function()\n  i = i % #tokens + 1\n  return wrk.format(nil, "/s/" .. tokens[i])\nend\n')

    ports = [port] + [free_port() for _ in range(a.servers - 1)]
    servers = []
    for p_ in ports:
        servers.append(subprocess.Popen([pulse, "serve", "--port", str(p_)], cwd=work, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(servers[-1])
        wait_for(p_)
    import urllib.request
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/s/{tokens[0]}").read()
    urls = [f"http://127.0.0.1:{p_}" for p_ in ports]
    get_rps, get_p99, get_err = wrk_all(urls, f"{work}/get.lua")
    post_rps, post_p99, post_err = wrk_all(urls, f"{work}/post.lua")
    if a.postgres:
        stored = subprocess.run(["psql", db, "-qAtc", "SELECT count(*) FROM response"], capture_output=True, text=True).stdout.strip()
    else:
        stored = subprocess.run(["sqlite3", db, "SELECT count(*) FROM response"],
                                capture_output=True, text=True).stdout.strip() if shutil.which("sqlite3") else "?"
    for server in servers:
        server.terminate()
        server.wait()

    fport = free_port()
    ref = subprocess.Popen([fixed, str(fport), str(len(page))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(ref)
    wait_for(fport)
    ref_get_rps, ref_get_p99, _ = wrk(f"http://127.0.0.1:{fport}", f"{work}/get.lua")
    ref_post_rps, ref_post_p99, _ = wrk(f"http://127.0.0.1:{fport}", f"{work}/post.lua")

    engine = f"PostgreSQL, {a.servers} serve" if a.postgres else ("SQLite" + (f", {a.servers} serve" if a.servers > 1 else ""))
    label = "" if engine == "SQLite" else f" ({engine})"
    print(f"web: {a.reps} reps on {engine}, wrk -c{a.connections} -d{a.seconds}s on loopback, {len(tokens)} tokens in rotation, "
          f"page of {len(page)} bytes")
    print(f"{'':34}{'req/s':>9}{'p99 ms':>9}{'non-2xx':>9}")
    print(f"{'pulse serve GET /s/{token}':34}{get_rps:9.0f}{get_p99:9.2f}{get_err:9d}")
    print(f"{'fixed page GET (reference)':34}{ref_get_rps:9.0f}{ref_get_p99:9.2f}{'':>9}")
    print(f"{'pulse serve POST /s/{token}':34}{post_rps:9.0f}{post_p99:9.2f}{post_err:9d}")
    print(f"{'fixed page POST (reference)':34}{ref_post_rps:9.0f}{ref_post_p99:9.2f}{'':>9}")
    print(f"ratio GET {get_rps / ref_get_rps:.2f}, POST {post_rps / ref_post_rps:.2f}; "
          f"responses stored after the POST run: {stored} (one per rep, edits in place)")
    if a.json:
        rows = []
        for name, rps, p99, ref_rps, ref_p99 in [("GET /s/{token}", get_rps, get_p99, ref_get_rps, ref_get_p99),
                                                 ("POST /s/{token}", post_rps, post_p99, ref_post_rps, ref_post_p99)]:
            rows.append({"figure": f"pulse serve {name}{label} (req/s)", "pulse": rps, "reference": ref_rps, "reference_name": "fixed page",
                         "higher_is_better": True, "goal": ">= 0.5 of the fixed page", "met": rps / ref_rps >= 0.5})
            rows.append({"figure": f"pulse serve {name}{label} p99 (ms)", "pulse": p99, "reference": ref_p99, "reference_name": "fixed page",
                         "higher_is_better": False, "goal": "< 20 ms", "met": p99 < 20})
        json.dump({"rows": rows}, open(a.json, "w"))
finally:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
    shutil.rmtree(work, ignore_errors=True)
