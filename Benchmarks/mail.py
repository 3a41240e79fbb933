#!/usr/bin/env python3
"""Mail benchmark: `pulse send` of one round to N reps through Postfix's smtp-sink on
loopback, database bookkeeping included (round, invitations, outbox rows, the sent
marks), beside Postfix's smtp-source pushing the same number of messages of the same
size over the same number of connections to the same sink, in the same run.

Usage: Benchmarks/mail.py PULSE_BINARY [--reps 10000] [--connections 4]
Needs postfix (smtp-sink, smtp-source): scripts/setup --bench installs it."""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("pulse")
p.add_argument("--reps", type=int, default=10000)
p.add_argument("--connections", type=int, default=4)
p.add_argument("--json", help="also write the figures to this file (for Benchmarks/run)")
a = p.parse_args()
pulse = os.path.abspath(a.pulse)
for tool in ("smtp-sink", "smtp-source"):
    if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
        sys.exit(f"{tool} not found: install postfix (scripts/setup --bench)")


def tool(name):
    return shutil.which(name) or f"/usr/sbin/{name}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


work = tempfile.mkdtemp(prefix="pulse-bench-mail-")
port = free_port()
sink = subprocess.Popen([tool("smtp-sink"), "-u", "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody"),
                         f"127.0.0.1:{port}", "1024"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    env = dict(os.environ, PULSE_DB=f"{work}/pulse.sqlite", PULSE_CONFIG=f"{work}/pulse.yaml",
               PULSE_SURVEYS=f"{work}/Surveys", PULSE_NOW="2026-11-23T10:00:00Z", NO_COLOR="1")
    subprocess.run([pulse, "init"], cwd=work, env=env, check=True, capture_output=True)
    with open(f"{work}/pulse.yaml", "w") as f:
        f.write(f"""organization: Acme Sales
base_url: https://pulse.acme.example
mail:
  transport: smtp
  from: "Pulse <pulse@acme.example>"
  smtp:
    url: smtp://127.0.0.1:{port}
    tls: none
    max_connections: {a.connections}
""")
    locales = [("en", "Europe/London", "Alex Morgan"), ("th", "Asia/Bangkok", "สมชาย ใจดี"),
               ("ms", "Asia/Kuala_Lumpur", "Nur Aina"), ("ru", "Europe/Moscow", "Анна Петрова")]
    with open(f"{work}/roster.csv", "w") as f:
        f.write("email,name,team,manager_email,locale,timezone\n")
        for i in range(a.reps):
            loc, tz, name = locales[i % 4]
            f.write(f"rep{i:05d}@acme.example,{name},team{i % 40:02d},lead{i % 40:02d}@acme.example,{loc},{tz}\n")
    subprocess.run([pulse, "roster", "import", "roster.csv"], cwd=work, env=env, check=True, capture_output=True)

    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", pulse, "send", "enps", "--period", "2026-Q4"],
                       cwd=work, env=env, capture_output=True, text=True)
    pulse_s = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"pulse send failed: {r.stderr}")
    peak_kib = int(r.stderr.strip().splitlines()[-1])
    sent = [l for l in r.stderr.splitlines() if l.startswith("outbox:")]
    import sqlite3
    db = sqlite3.connect(f"{work}/pulse.sqlite")
    count = db.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0]
    if count != a.reps:
        sys.exit(f"only {count} of {a.reps} messages were marked sent: {sent}")
    # smtp-sink keeps nothing: the size of a message comes from the same round written
    # by the file transport, one rep per language.
    file_env = dict(env, PULSE_CONFIG=f"{work}/file.yaml", PULSE_DB=f"{work}/size.sqlite")
    with open(f"{work}/file.yaml", "w") as f:
        f.write(f"organization: Acme Sales\nbase_url: https://pulse.acme.example\nmail:\n  transport: file\n  outbox_dir: {work}/eml\n")
    with open(f"{work}/one.csv", "w") as f:
        f.write("email,name,team,locale\n" + "".join(
            f"s{i}@acme.example,{locales[i][2]},t,{locales[i][0]}\n" for i in range(4)))
    subprocess.run([pulse, "init"], cwd=work, env=file_env, check=True, capture_output=True)
    subprocess.run([pulse, "roster", "import", "one.csv"], cwd=work, env=file_env, check=True, capture_output=True)
    subprocess.run([pulse, "send", "enps", "--period", "2026-Q4"], cwd=work, env=file_env, check=True, capture_output=True)
    sizes = [os.path.getsize(os.path.join(f"{work}/eml", n)) for n in os.listdir(f"{work}/eml")]
    size = sum(sizes) // len(sizes)

    start = time.perf_counter()
    subprocess.run([tool("smtp-source"), "-d", "-s", str(a.connections), "-m", str(a.reps), "-l", str(size),
                    "-f", "pulse@acme.example", "-t", "rep@acme.example", f"127.0.0.1:{port}"],
                   check=True, capture_output=True)
    source_s = time.perf_counter() - start

    pulse_rate, source_rate = a.reps / pulse_s, a.reps / source_s
    print(f"mail: one round to {a.reps} reps through smtp-sink, {a.connections} connections, "
          f"messages of {size} bytes")
    print(f"{'':34}{'seconds':>9}{'msg/s':>10}")
    print(f"{'pulse send (queue+render+send+mark)':34}{pulse_s:9.2f}{pulse_rate:10.0f}")
    print(f"{'smtp-source (reference)':34}{source_s:9.2f}{source_rate:10.0f}")
    print(f"ratio pulse / smtp-source: {pulse_rate / source_rate:.2f}   peak memory of pulse send: {peak_kib / 1024:.0f} MiB")
    if a.json:
        json.dump({"rows": [
            {"figure": f"pulse send, {a.reps} messages (msg/s)", "pulse": pulse_rate, "reference": source_rate,
             "reference_name": "smtp-source", "higher_is_better": True, "goal": "1,000 msg/s, >= 0.5 of smtp-source",
             "met": pulse_rate >= 1000 and pulse_rate / source_rate >= 0.5},
            {"figure": "pulse send peak memory (MiB)", "pulse": peak_kib / 1024, "reference": None, "reference_name": "",
             "higher_is_better": False, "goal": "", "met": None}]}, open(a.json, "w"))
finally:
    sink.terminate()
    sink.wait()
    shutil.rmtree(work, ignore_errors=True)
