#!/usr/bin/env python3
"""What the knowledge base costs: a release gateway on a fresh SQLite database (or, with
`--postgres`, a fresh database of the PostgreSQL server on 127.0.0.1:5432, dropped afterwards),
N generated articles (default 2,000; `--articles N`), half Russian and half English, ~250 words
each in inflected forms, spread over ten tags of which the test contract `acme-en` is granted
three. Prints how long `knowledge apply` takes for all of them, and the median of 25 calls of:
the contractor's list without a query, a search for a common word in another form than the
articles use, a search for two words, and an article read (audited).
Run `cargo build --release` first."""
import json, os, random, shutil, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_ = os.path.join(root, "target/release/msp-bridge")
args = sys.argv[1:]
postgres = "--postgres" in args
articles = int(args[args.index("--articles") + 1]) if "--articles" in args else 2000
work = tempfile.mkdtemp()
cdir, kdir = os.path.join(work, "contracts"), os.path.join(work, "knowledge")
os.makedirs(cdir), os.makedirs(kdir)
acme = open(os.path.join(root, "tests/fixtures/contracts/acme-en.toml")).read()
acme = acme.split("\n[knowledge]")[0] + '\n[knowledge]\ntags = ["t0", "t1", "t2"]\n'
open(os.path.join(cdir, "acme-en.toml"), "w").write(acme)

random.seed(7)
RU = ("возврата возвратом возврату оплаты оплатой заказа заказом доставки доставкой курьера "
      "карты картой клиента клиенту обращения обращением срока сроки документы документов "
      "подтверждения письма письмом отмены отменой товара товаром склада скидки скидкой "
      "магазина магазине адреса адресом счёта счёту платежа платежом").split()
EN = ("refunds refunded payment payments orders ordering delivery delivered courier cards "
      "customer customers request requests deadline documents confirmation letters cancel "
      "cancelled goods warehouse discount discounts store address invoices invoice charge").split()
FILLER_RU = "и в на по для с от до при о что как это".split()
FILLER_EN = "the a to of for with from by on in at is are".split()


def article(n):
    ru = n % 2 == 0
    words, filler = (RU, FILLER_RU) if ru else (EN, FILLER_EN)
    title = " ".join(random.sample(words, 3)).capitalize() + f" {n}"
    body = []
    for _ in range(25):
        body.append(" ".join(random.choice(words if random.random() < 0.6 else filler) for _ in range(10)).capitalize() + ".")
    text = "\n\n".join(" ".join(body[i:i + 5]) for i in range(0, 25, 5))
    return (f'+++\nid = "a{n}"\ntitle = "{title}"\nlanguage = "{"ru" if ru else "en"}"\n'
            f'tags = ["t{n % 10}"]\naudience = "contractors"\n+++\n\n# {title}\n\n{text}\n')


for n in range(articles):
    open(os.path.join(kdir, f"a{n:05d}.md"), "w").write(article(n))

pg_db = "kbcost_" + os.urandom(4).hex()
if postgres:
    subprocess.check_call(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {pg_db}"])
database = f"postgres://postgres@127.0.0.1:5432/{pg_db}" if postgres else f"sqlite://{work}/b.db"
env = dict(os.environ, BRIDGE_DATA_DIR=work, BRIDGE_DATABASE_URL=database, BRIDGE_LISTEN="127.0.0.1:18732",
           BRIDGE_JWT_SECRET="ab" * 32, BRIDGE_CONTRACTS_DIR=cdir, BRIDGE_KNOWLEDGE_DIR=kdir,
           RUST_LOG="error", BRIDGE_CONNECTORS_DIR=os.path.join(work, "none"))
srv = None
try:
    t0 = time.perf_counter()
    subprocess.check_call([bin_, "knowledge", "apply"], env=env, stdout=subprocess.DEVNULL)
    applied = time.perf_counter() - t0
    token = subprocess.check_output([bin_, "token", "issue", "--ttl", "1d", "--sub", "bench", "--role",
                                     "contractor", "--contractor", "acme"], env=env,
                                    stderr=subprocess.DEVNULL).decode().strip()
    srv = subprocess.Popen([bin_, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:18732"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/readyz")
            break
        except OSError:
            time.sleep(0.1)

    def get(path):
        req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        t = time.perf_counter()
        with urllib.request.urlopen(req) as r:
            body = json.loads(r.read())
        return (time.perf_counter() - t) * 1000, body

    def median(path):
        return statistics.median(get(path)[0] for _ in range(25))

    q = lambda text: "/api/v1/contractor/knowledge?q=" + urllib.parse.quote(text)
    found = len(get(q("возврат"))[1]["articles"])
    assert found > 0, "the stem search found nothing"
    name = "postgres" if postgres else "sqlite"
    print(f"{name}: {articles} articles, knowledge apply {applied:.1f} s")
    print(f"{name}: list (20) median {median('/api/v1/contractor/knowledge'):.1f} ms")
    print(f"{name}: search `возврат` (found {found}, first 20) median {median(q('возврат')):.1f} ms")
    print(f"{name}: search `refund delivery` median {median(q('refund delivery')):.1f} ms")
    print(f"{name}: read one article median {median('/api/v1/contractor/knowledge/a10'):.1f} ms")
finally:
    if srv:
        srv.terminate()
        srv.wait()
    shutil.rmtree(work, ignore_errors=True)
    if postgres:
        subprocess.call(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE {pg_db}"])
