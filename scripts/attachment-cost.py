#!/usr/bin/env python3
"""What a scanned text attachment costs a contractor's view and download: a release gateway on a
fresh SQLite database, the test contract `acme-en` sending text files, a ticket without a file
and with an authentication log of 64 KiB and 1 MiB (an e-mail, IP and phone on every line).
Run `cargo build --release` first. Prints the median of 15 calls each. `--postgres` runs it on a
fresh database of the PostgreSQL server on 127.0.0.1:5432 (user postgres), dropped afterwards."""
import base64, json, os, random, shutil, subprocess, sys, time, urllib.request, tempfile, statistics
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_ = os.path.join(root, "target/release/msp-bridge")
work = tempfile.mkdtemp()
cdir = os.path.join(work, "contracts"); os.makedirs(cdir)
acme = open(os.path.join(root, "tests/fixtures/contracts/acme-en.toml")).read().replace("[confidentiality]\n", '[confidentiality]\nattachments = ["text/plain"]\n')
open(os.path.join(cdir, "acme-en.toml"), "w").write(acme)
postgres = "--postgres" in sys.argv[1:]
pg_db = "attcost_" + os.urandom(4).hex()
if postgres:
    subprocess.check_call(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {pg_db}"])
database = f"postgres://postgres@127.0.0.1:5432/{pg_db}" if postgres else f"sqlite://{work}/b.db"
env = dict(os.environ, BRIDGE_DATA_DIR=work, BRIDGE_DATABASE_URL=database, BRIDGE_LISTEN="127.0.0.1:18731",
           BRIDGE_JWT_SECRET="ab"*32, BRIDGE_CONTRACTS_DIR=cdir, RUST_LOG="error", BRIDGE_CONNECTORS_DIR=os.path.join(work,"none"))
tok = lambda *a: subprocess.check_output([bin_, "token", "issue", "--ttl", "1d", "--sub", "bench", *a], env=env, stderr=subprocess.DEVNULL).decode().strip()
inhouse, acme_t = tok("--role", "inhouse"), tok("--role", "contractor", "--contractor", "acme")
srv = subprocess.Popen([bin_, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = "http://127.0.0.1:18731"
for _ in range(100):
    try: urllib.request.urlopen(base + "/readyz"); break
    except OSError: time.sleep(0.1)
def call(method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r: return r.read()
random.seed(1)
def log(size):
    lines, n = [], 0
    while n < size:
        l = f"2026-12-07T04:{random.randint(0,59):02d}:00Z user{random.randint(1,999)}@example.com login from 10.0.{random.randint(0,255)}.{random.randint(1,254)} tel +7 912 {random.randint(100,999)}-{random.randint(10,99)}-{random.randint(10,99)} ok\n"
        lines.append(l); n += len(l)
    return "".join(lines)
def ticket(ext, size):
    t = {"source":"bench","external_id":ext,"subject":"Login problem","description":"Hi, I'm John Smith, mail john.smith@example.com",
         "requester":{"name":"John Smith","email":"john.smith@example.com"},"channel":"email","priority":"normal","language":"en","category":"billing","status":"open"}
    if size: t["attachments"] = [{"file_name":"auth.log","media_type":"text/plain","content":base64.b64encode(log(size).encode()).decode()}]
    return t
try:
    for size in [0, 64*1024, 1024*1024 - 4096]:
        out = json.loads(call("POST", "/api/v1/tickets", inhouse, ticket(f"T{size}", size)))
        tid = out["id"]
        view = json.loads(call("GET", f"/api/v1/contractor/tickets/{tid}", acme_t))
        times = []
        for _ in range(15):
            t0 = time.perf_counter(); call("GET", f"/api/v1/contractor/tickets/{tid}", acme_t); times.append((time.perf_counter()-t0)*1000)
        dl = []
        if size:
            aid = view["attachments"][0]["id"]; assert view["attachments"][0]["disposition"] == "redacted", view["attachments"]
            for _ in range(15):
                t0 = time.perf_counter(); call("GET", f"/api/v1/contractor/tickets/{tid}/attachments/{aid}", acme_t); dl.append((time.perf_counter()-t0)*1000)
        print(f"{'postgres' if postgres else 'sqlite'}: text file {size/1024:.0f} KiB: contractor view median {statistics.median(times):.1f} ms" + (f", download median {statistics.median(dl):.1f} ms" if dl else ""))
finally:
    srv.terminate()
    srv.wait()
    shutil.rmtree(work, ignore_errors=True)
    if postgres:
        subprocess.call(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE {pg_db}"])
