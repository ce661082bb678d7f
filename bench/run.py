"""The benchmark of the POS Lifecycle Portal: one command, figures anyone can reproduce.

    bench/run.sh                      # full size (200,000 tickets) + the 1,000-ticket comparison
    bench/run.sh --duration 30        # longer wrk runs
    bench/run.sh --reload             # reload the bulk data first (else reuse portal_bench)
    bench/run.sh --mixed              # then every role's journey at once (see `mixed`)

What it does:
1. PostgreSQL databases `portal_bench` (bulk_data at --scale, default 1 = 200,000 tickets) and
   `portal_bench_small` (--small-scale, default 0.005 = 1,000 tickets), loaded once and reused.
2. Picks the people and objects (the merchant with the most tickets, the busiest branch's
   engineer, ...), creates their sessions and API tokens, and counts SQL queries per page
   in-process (Django test client + CaptureQueriesContext) on both databases.
3. Serves the full-size database with gunicorn (production settings, DEBUG off, Redis db 6 as
   broker and cache, BENCH_FLOOR=1 for the bare view) and measures every page with wrk at 16
   connections: requests/s and p50/p95/p99, plus the bare view at the start and at the end. Two
   floors: the bare view (no session, no template) and an empty signed-in page (the layout only:
   session, user, navigation, badge, footer), so every table shows the fixed cost of a page.
   With --mixed, merchants, agents, engineers and reviewers then follow their journeys at once.
4. Writes bench/results.md (and bench/out/results.json) with the date, sizes, machine and load.

The API-transition run moves open tickets along their repair steps (as an administrator), so it
changes the data a little each run; `--reload` gives pristine data again.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = str(ROOT / ".venv" / "bin" / "python")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
TARGETS = {
    # name: (what it is, target p95 ms, target req/s or None)
    "floor": "bare Django view (the floor)",
    "empty": "empty signed-in page (the layout only: the second floor)",
    "merchant_dashboard": "merchant dashboard (/)",
    "merchant_tickets": "merchant ticket list",
    "ticket_timeline": "ticket timeline (merchant)",
    "agent_queue": "agent queue, filtered",
    "engineer_queue": "engineer queue (branch)",
    "report": "reports page",
    "tracking": "public tracking lookup",
    "api_ticket_list": "API ticket list (agent token)",
    "api_transition": "API transition (POST, distinct tickets)",
}
# The targets (issue 15): % of the bare-view floor in the same run, and p95 for the first three.
PCT_TARGETS = {
    "tracking": 20, "report": 20, "api_ticket_list": 20,
    "merchant_tickets": 15,
    "engineer_queue": 10, "agent_queue": 10,
    "merchant_dashboard": 8, "ticket_timeline": 8,
    "api_transition": 5,
}
P95_TARGETS = {"tracking": 50, "report": 50, "api_ticket_list": 50}


def env_for(db, **extra):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"{PG}/{db}",
        "REDIS_URL": REDIS,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_SSL_REDIRECT": "0",
        "BENCH_FLOOR": "1",
        "DEMO_DATA_ALLOWED": "1",
        "TRACK_LIMIT": "1000000000",  # the tracking rate limit would turn the benchmark into 429s
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "CONN_MAX_AGE": "600",
        **extra,
    }


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def log(msg):
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", flush=True)


def psql(sql, db="postgres"):
    return sh(["psql", f"{PG}/{db}", "-tAc", sql]).stdout.strip()


def ensure_wrk():
    if shutil.which("wrk"):
        return shutil.which("wrk")
    log("wrk is missing: installing it (apt-get install -y wrk)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk")


def prepare_db(db, scale, reload):
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'") == "1"
    if exists and not reload:
        loaded = psql("SELECT count(*) FROM accounts_branch WHERE code = 'BX001'", db) == "1"
        if loaded:
            log(f"{db}: bulk data present (use --reload to load it again); applying new migrations")
            sh([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env_for(db))
            return None
    log(f"{db}: creating and loading bulk data at scale {scale}")
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}")
    env = env_for(db)
    sh([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env)
    started = time.monotonic()
    result = sh([PY, "bench/bulk_data.py", "--scale", str(scale)], cwd=ROOT, env=env)
    seconds = time.monotonic() - started
    (OUT / f"bulk_{db}.log").write_text(result.stdout)
    log(f"{db}: loaded in {seconds:.0f} s")
    return seconds


# --- inside Django ------------------------------------------------------------------------


def inside_targets(out_path, transitions):
    """Pick actors and objects, make sessions/tokens, count queries; write the target list."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from portal.accounts.models import User
    from repairs.models import FaultTicket, RepairRequest, TicketEvent

    bulk_merchants = User.objects.filter(role="merchant", username__startswith="bulk-m", is_merchant_owner=True)
    top = (
        FaultTicket.objects.filter(merchant__users__in=bulk_merchants)
        .values("merchant_id").annotate(n=Count("pk")).order_by("-n", "merchant_id").first()
    )
    merchant = bulk_merchants.filter(merchant_id=top["merchant_id"]).first()
    agent = User.objects.get(username="bulk-agent001")
    busiest = (
        FaultTicket.objects.filter(status__in=FaultTicket.BRANCH_STATUSES).values("branch_id").annotate(n=Count("pk"))
        .order_by("-n", "branch_id").first()
    )
    engineer = User.objects.filter(role="engineer", branch_id=busiest["branch_id"]).order_by("pk").first()
    # The agent's filter: the open status with the most tickets (a page of rows at either size).
    busiest_status = (
        FaultTicket.objects.open().values("status").annotate(n=Count("pk")).order_by("-n", "status").first()["status"]
    )
    reviewer = User.objects.filter(role="reviewer", username__startswith="bulk-").order_by("pk").first()
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"role": "admin", "is_superuser": True, "is_staff": True}
    )

    def session(user):
        c = Client()
        c.force_login(user)
        return c, f"{settings.SESSION_COOKIE_NAME}={c.cookies[settings.SESSION_COOKIE_NAME].value}"

    def token(user):
        return Token.objects.get_or_create(user=user)[0].key

    files = Path(out_path).parent
    timeline = list(
        FaultTicket.objects.filter(merchant_id=merchant.merchant_id).annotate(n=Count("events"))
        .order_by("-n", "pk").values_list("service_order_no", flat=True)[:200]
    )
    (files / "timeline_paths.txt").write_text("".join(f"/tickets/{no}/\n" for no in timeline))
    tracked = list(
        FaultTicket.objects.order_by("?").values_list("service_order_no", "terminal__tag_number")[:500]
    )
    (files / "track_paths.txt").write_text("".join(f"/track/?no={no}&tag={tag}\n" for no, tag in tracked))

    clients = {}
    cookies = {}
    for who, user in (("merchant", merchant), ("agent", agent), ("engineer", engineer), ("reviewer", reviewer)):
        clients[who], cookies[who] = session(user)
    agent_token, admin_token = token(agent), token(admin)

    targets = [
        {"name": "floor", "path": "/bench/floor", "who": None},
        {"name": "empty", "path": "/bench/empty", "who": "merchant"},
        {"name": "merchant_dashboard", "path": "/", "who": "merchant"},
        {"name": "merchant_tickets", "path": "/tickets/", "who": "merchant"},
        {"name": "ticket_timeline", "path": f"/tickets/{timeline[0]}/", "who": "merchant",
         "paths_file": "timeline_paths.txt"},
        {"name": "agent_queue", "path": f"/tickets/?queue=open&status={busiest_status}", "who": "agent"},
        {"name": "engineer_queue", "path": "/tickets/", "who": "engineer"},
        {"name": "report", "path": "/reports/", "who": "reviewer"},
        {"name": "tracking", "path": f"/track/?no={tracked[0][0]}&tag={tracked[0][1]}", "who": None,
         "paths_file": "track_paths.txt"},
        {"name": "api_ticket_list", "path": "/api/v1/tickets/", "who": None, "token": agent_token},
    ]
    for t in targets:
        client = clients.get(t["who"]) or Client()
        extra = {"HTTP_AUTHORIZATION": f"Token {t['token']}"} if t.get("token") else {}
        with CaptureQueriesContext(connection) as cold:
            client.get(t["path"], **extra)
        with CaptureQueriesContext(connection) as warm:
            second = client.get(t["path"], **extra)
        t["status"] = second.status_code
        t["queries"] = len(warm.captured_queries)  # a warm worker: caches as in production
        t["queries_first"] = len(cold.captured_queries)
        t["headers"] = ([f"Cookie: {cookies[t['who']]}"] if t.get("who") else []) + (
            [f"Authorization: Token {t['token']}"] if t.get("token") else []
        )

    # The API transition: chains of steps per open ticket, laid out in passes (see report.lua).
    open_tickets = list(
        FaultTicket.objects.filter(status__in=["reported", "remote_diagnosis", "awaiting_branch", "at_branch",
                                               "diagnosing", "repairing", "network_testing"])
        .select_related("terminal__home_branch").order_by("pk")
    )
    probe, open_tickets = open_tickets[0], open_tickets[1:]
    # Two disjoint sets of tickets: one for the measured run, one for the soak afterwards.
    groups = {"transition_paths.txt": open_tickets[0::2], "transition_paths_soak.txt": open_tickets[1::2]}
    for filename, group in groups.items():
        group = group[: len(group) // 2 * 2]  # even: a ticket's lines always go to the same wrk thread
        chains = [_chain(t, transitions) for t in group]
        lines = []
        for step in range(transitions):
            for ticket, chain in zip(group, chains, strict=True):
                to, body = chain[step]
                lines.append(f"/api/v1/tickets/{ticket.service_order_no}/transition/\t{json.dumps(body | {'to': to})}")
        (files / filename).write_text("\n".join(lines) + "\n")
    admin_client = Client()
    # A warm worker, as for the pages: the token's user is in the cache before the measured step.
    admin_client.get("/api/v1/profile/", HTTP_AUTHORIZATION=f"Token {admin_token}")
    to, body = _chain(probe, 1)[0]
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.post(
            f"/api/v1/tickets/{probe.service_order_no}/transition/", json.dumps(body | {"to": to}),
            content_type="application/json", HTTP_AUTHORIZATION=f"Token {admin_token}",
        )
    targets.append({
        "name": "api_transition", "path": f"/api/v1/tickets/{probe.service_order_no}/transition/", "who": None,
        "method": "POST", "paths_file": "transition_paths.txt", "status": response.status_code,
        "queries": len(ctx.captured_queries), "headers": [f"Authorization: Token {admin_token}"],
        "tickets": len(groups["transition_paths.txt"]),
    })
    actors = {"merchant": merchant.pk, "agent": agent.pk, "engineer": engineer.pk, "cookies": cookies,
              "timeline": timeline[:40], "busiest_status": busiest_status}
    sizes = {
        "tickets": FaultTicket.objects.count(),
        "ticket_events": TicketEvent.objects.count(),
        "repair_requests": RepairRequest.objects.count(),
        "merchant": f"{merchant.merchant.name} ({top['n']} tickets)",
        "engineer_branch_open": busiest["n"],
    }
    Path(out_path).write_text(json.dumps({"targets": targets, "sizes": sizes, "actors": actors},
                                         ensure_ascii=False, indent=1))


def inside_mixed(out_path, targets_path):
    """The --mixed run's clients, from the data as it is now (after the page runs moved tickets)."""
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from portal.accounts.models import User

    actors = json.loads(Path(targets_path).read_text())["actors"]
    users = {who: User.objects.select_related("branch").get(pk=actors[who]) for who in ("merchant", "agent", "engineer")}
    clients = _mixed_journeys(Path(out_path).parent, users["merchant"], users["agent"], users["engineer"],
                              actors["timeline"], actors["cookies"], lambda u: Token.objects.get_or_create(user=u)[0].key,
                              actors["busiest_status"])
    Path(out_path).write_text(json.dumps(clients, ensure_ascii=False, indent=1))


def _mixed_journeys(files, merchant, agent, engineer, timeline, cookies, token, busiest_status):
    """The --mixed run's clients: each role's pages (its session) and its steps (its API token).

    Merchants read their dashboard, list and tickets; agents read their queue and take and escalate
    the measured merchant's newly reported tickets to the engineer's branch (so the merchant's pages
    change under it, as in real use); engineers read their queue and move their branch's tickets
    along; reviewers read the reports and the API list. Steps are laid out in passes (report.lua).
    """
    from repairs.models import FaultTicket

    def write(name, lines):
        (files / name).write_text("".join(f"{line}\n" for line in lines))
        return name

    # New tickets the agent takes and escalates (the measured merchant's first, then any it sees).
    new = ["reported", "remote_diagnosis"]
    mine = FaultTicket.objects.filter(merchant_id=merchant.merchant_id, status__in=new).order_by("pk")
    _report_faults(merchant, 200 - mine.count())
    reported = list(mine.values_list("service_order_no", "status")[:400])
    reported += list(FaultTicket.objects.visible_to(agent).filter(status__in=new).exclude(merchant_id=merchant.merchant_id)
                     .order_by("pk").values_list("service_order_no", "status")[: 400 - len(reported)])
    branch_code = engineer.branch.code
    take = [(no, {"to": "remote_diagnosis"}) for no, status in reported if status == "reported"]
    escalate = [(no, {"to": "awaiting_branch", "branch": branch_code}) for no, _ in reported]
    agent_steps = [f"/api/v1/tickets/{no}/transition/\t{json.dumps(body)}" for no, body in take + escalate]
    at_branch = list(FaultTicket.objects.filter(branch_id=engineer.branch_id, status__in=[
        "awaiting_branch", "at_branch", "diagnosing", "repairing", "network_testing"])
        .select_related("terminal__home_branch").order_by("pk"))
    at_branch = at_branch[: len(at_branch) // 2 * 2]
    chains = [_chain(t, 4) for t in at_branch]
    engineer_steps = [f"/api/v1/tickets/{t.service_order_no}/transition/\t{json.dumps(chain[i][1] | {'to': chain[i][0]})}"
                      for i in range(4) for t, chain in zip(at_branch, chains, strict=True)]
    engineer_pages = ["/tickets/"] + [f"/tickets/{t.service_order_no}/" for t in at_branch[:50]]
    merchant_pages = ["/", "/tickets/", *(f"/tickets/{no}/" for no in timeline[:40])]
    agent_pages = ["/tickets/", f"/tickets/?queue=open&status={busiest_status}", "/"]
    reviewer_pages = ["/reports/", "/api/v1/tickets/", "/"]
    return [
        # role, what, connections, method, paths file, headers
        {"role": "merchant", "what": "pages", "connections": 4, "method": "GET",
         "paths_file": write("mixed_merchant.txt", merchant_pages), "headers": [f"Cookie: {cookies['merchant']}"]},
        {"role": "agent", "what": "pages", "connections": 3, "method": "GET",
         "paths_file": write("mixed_agent.txt", agent_pages), "headers": [f"Cookie: {cookies['agent']}"]},
        {"role": "agent", "what": "steps (API)", "connections": 2, "method": "POST",
         "paths_file": write("mixed_agent_steps.txt", agent_steps), "headers": [f"Authorization: Token {token(agent)}"],
         "tickets": len(reported)},
        {"role": "engineer", "what": "pages", "connections": 3, "method": "GET",
         "paths_file": write("mixed_engineer.txt", engineer_pages), "headers": [f"Cookie: {cookies['engineer']}"]},
        {"role": "engineer", "what": "steps (API)", "connections": 2, "method": "POST",
         "paths_file": write("mixed_engineer_steps.txt", engineer_steps),
         "headers": [f"Authorization: Token {token(engineer)}"], "tickets": len(at_branch)},
        {"role": "reviewer", "what": "pages", "connections": 2, "method": "GET",
         "paths_file": write("mixed_reviewer.txt", reviewer_pages), "headers": [f"Cookie: {cookies['reviewer']}"]},
    ]


def _report_faults(merchant, wanted):
    """Merchants report faults on up to `wanted` terminals in service without an open ticket (the
    measured merchant's first), through the service the report page uses: earlier runs moved the
    new tickets on."""
    from django.db.models import Case, Value, When

    from portal.accounts.models import User
    from repairs.models import FaultTicket
    from repairs.workflow import create_ticket
    from terminals.models import Terminal

    if wanted <= 0:
        return
    busy = FaultTicket.objects.open().values("terminal_id")
    free = list(Terminal.objects.filter(status=Terminal.Status.ACTIVE, merchant__isnull=False).exclude(pk__in=busy)
                .order_by(Case(When(merchant_id=merchant.merchant_id, then=Value(0)), default=Value(1)), "pk")[:wanted])
    users = User.objects.filter(role="merchant", is_active=True, merchant_id__in={t.merchant_id for t in free})
    owners = {u.merchant_id: u for u in users.order_by("is_merchant_owner", "-pk")}  # the owner last: it wins
    reported = 0
    for terminal in free:
        if terminal.merchant_id in owners:
            create_ticket(terminal=terminal, actor=owners[terminal.merchant_id],
                          fault_type=FaultTicket.FaultType.values[0], symptoms="刷卡无反应，屏幕提示读卡失败")
            reported += 1
    log(f"  mixed: merchants reported {reported} new faults for the agents to take")


def _chain(ticket, length):
    """The next `length` steps an administrator can take on `ticket`, from its state now."""
    steps = []
    s = ticket.status
    term = ticket.terminal
    if s == "reported":
        steps.append(("remote_diagnosis", {}))
        s = "remote_diagnosis"
    if s == "remote_diagnosis":
        steps.append(("awaiting_branch", {"branch": term.home_branch.code}))
        s = "awaiting_branch"
    if s == "awaiting_branch":
        steps.append(("at_branch", {"tag_number": term.tag_number, "serial_number": term.serial_number,
                                    "documents": ["business_licence", "operator_id"]}))
        s = "at_branch"
    if s == "at_branch":
        steps.append(("diagnosing", {}))
        s = "diagnosing"
    if s == "diagnosing":
        steps.append(("repairing", {"diagnosis": "读卡模块接触不良"}))
        s = "repairing"
    while len(steps) < length:
        if s == "repairing":
            steps.append(("network_testing", {"work_done": "更换读卡模块"}))
            s = "network_testing"
        else:
            steps.append(("repairing", {"test_passed": False, "note": "联网测试交易超时"}))
            s = "repairing"
    return steps[:length]


# --- outside: serve and measure ---------------------------------------------------------------


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "os": platform.platform(), "python": platform.python_version(),
        "postgresql": psql("SHOW server_version"),
    }


def load_snapshot():
    load = Path("/proc/loadavg").read_text().split()[:3]
    top = sh(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"]).stdout.splitlines()[:8]
    return {"loadavg": " ".join(load), "top": [" ".join(line.split()) for line in top]}


def start_gunicorn(db, port, workers):
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken (someone else's server?): use --port")
    env = env_for(db)
    log(f"gunicorn: {workers} sync workers on 127.0.0.1:{port}")
    logfile = open(OUT / "gunicorn.log", "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env=env, start_new_session=True, stdout=logfile, stderr=subprocess.STDOUT,
    )
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("gunicorn did not come up: see bench/out/gunicorn.log")


def wrk_command(wrk, url, *, threads, connections, seconds, timeout, method="GET", paths_file=None, headers=()):
    """wrk with bench/report.lua: the command line and its environment."""
    env = {**os.environ, "BENCH_THREADS": str(threads), "BENCH_METHOD": method}
    if paths_file:
        env["BENCH_PATHS_FILE"] = str(OUT / paths_file)
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", timeout, "-s",
           str(ROOT / "bench" / "report.lua")]
    for header in headers:
        cmd += ["-H", header]
    return [*cmd, url], env


def wrk_figures(stdout):
    """The summary report.lua prints, with the request rate."""
    line = next(x for x in stdout.splitlines() if x.startswith("WRKJSON "))
    figures = json.loads(line[len("WRKJSON "):])
    figures["rps"] = round(figures["requests"] / (figures["duration_us"] / 1e6), 1)
    return figures


def run_wrk(wrk, port, target, duration, connections, threads):
    cmd, env = wrk_command(wrk, f"http://127.0.0.1:{port}{target['path']}", threads=threads,
                           connections=connections, seconds=duration, timeout="10s",
                           method=target.get("method", "GET"), paths_file=target.get("paths_file"),
                           headers=target.get("headers", []))
    return wrk_figures(subprocess.run(cmd, env=env, text=True, capture_output=True, check=True).stdout)


def soak(wrk, port, by_name, seconds, threads):
    """50 clients at once on the main pages for `seconds`: (connections, pages) per group."""
    groups = [
        (12, ["merchant_dashboard", "merchant_tickets", "ticket_timeline"]),
        (10, ["agent_queue", "engineer_queue"]),
        (8, ["tracking", "report"]),
        (10, ["api_ticket_list"]),
        (10, ["api_transition"]),
    ]
    log(f"soak: 50 clients for {seconds} s on the main pages")
    procs = []
    for connections, names in groups:
        per = max(2, connections // len(names))
        for name in names:
            target = by_name[name]
            paths_file = target.get("paths_file")
            if paths_file:
                soak_file = paths_file.replace(".txt", "_soak.txt")
                paths_file = soak_file if (OUT / soak_file).exists() else paths_file
            cmd, env = wrk_command(wrk, f"http://127.0.0.1:{port}{target['path']}", threads=1, connections=per,
                                   seconds=seconds, timeout="20s", method=target.get("method", "GET"),
                                   paths_file=paths_file, headers=target.get("headers", []))
            procs.append((name, per, subprocess.Popen(cmd, env=env, text=True, stdout=subprocess.PIPE)))
    out = {}
    for name, per, p in procs:
        stdout, _ = p.communicate(timeout=seconds + 120)
        out[name] = {**wrk_figures(stdout), "connections": per}
    errors = (OUT / "gunicorn.log").read_text() if (OUT / "gunicorn.log").exists() else ""
    out["_server_errors_logged"] = errors.count("Internal Server Error")
    log(f"  soak: {sum(v['requests'] for k, v in out.items() if not k.startswith('_'))} requests, "
        f"{sum(v['non2xx'] for k, v in out.items() if not k.startswith('_'))} non-2xx")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--small-scale", type=float, default=0.005)
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--reload", action="store_true", help="load the bulk data again")
    parser.add_argument("--db", default="portal_bench")
    parser.add_argument("--only", default="", help="comma-separated target names")
    parser.add_argument("--soak", type=int, default=60,
                        help="then 50 clients on the main pages for this many seconds (0: skip)")
    parser.add_argument("--mixed", type=int, default=0, metavar="SECONDS", nargs="?", const=60,
                        help="then every role's journey at once for SECONDS (default 60)")
    parser.add_argument("--inside", default="", help=argparse.SUPPRESS)
    parser.add_argument("--targets", default="", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    parser.add_argument("--transitions", type=int, default=8, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside == "targets":
        sys.path.insert(0, str(ROOT))
        return inside_targets(args.out, args.transitions)
    if args.inside == "mixed":
        sys.path.insert(0, str(ROOT))
        return inside_mixed(args.out, args.targets)

    OUT.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    wrk = ensure_wrk()
    before = load_snapshot()
    small_db = f"{args.db}_small"
    load_seconds = {args.db: prepare_db(args.db, args.scale, args.reload),
                    small_db: prepare_db(small_db, args.small_scale, args.reload)}
    sh([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env_for(args.db))

    found = {}
    for db in (small_db, args.db):
        out = OUT / f"targets_{db}.json"
        log(f"{db}: actors, sessions and SQL queries per page")
        sh([PY, str(Path(__file__).resolve()), "--inside", "targets", "--out", str(out)], cwd=ROOT, env=env_for(db))
        found[db] = json.loads(out.read_text())
    # The small database's files are overwritten by the large one's (same names): wrk uses the large.
    targets = found[args.db]["targets"]
    queries_small = {t["name"]: t["queries"] for t in found[small_db]["targets"]}

    only = set(filter(None, args.only.split(",")))
    results = {}
    proc = start_gunicorn(args.db, args.port, args.workers)
    try:
        order = ["floor"] + [t["name"] for t in targets if t["name"] != "floor"] + ["floor_end"]
        by_name = {t["name"]: t for t in targets}
        by_name["floor_end"] = by_name["floor"]
        for name in order:
            if only and name.replace("_end", "") not in only and name not in ("floor", "floor_end"):
                continue
            target = by_name[name]
            if target.get("method", "GET") == "GET":  # warm the workers and the caches
                run_wrk(wrk, args.port, target, 2, args.connections, args.threads)
            log(f"wrk {name} ({args.duration} s, {args.connections} connections)")
            results[name] = run_wrk(wrk, args.port, target, args.duration, args.connections, args.threads)
            log(f"  {results[name]['rps']} req/s, p95 {results[name]['p95_ms']} ms, non-2xx {results[name]['non2xx']}")
        if args.soak:
            results["soak"] = soak(wrk, args.port, by_name, args.soak, args.threads)
        if args.mixed:
            out = OUT / "mixed.json"
            sh([PY, str(Path(__file__).resolve()), "--inside", "mixed", "--out", str(out),
                "--targets", str(OUT / f"targets_{args.db}.json")], cwd=ROOT, env=env_for(args.db))
            results["mixed"] = mixed(wrk, args.port, json.loads(out.read_text()), args.mixed)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        subprocess.run(["redis-cli", "-u", REDIS, "FLUSHDB"], capture_output=True)  # our own db only

    after = load_snapshot()
    report = {
        "date": started_at.isoformat(timespec="seconds"), "machine": machine(), "load_before": before,
        "load_after": after, "sizes": found[args.db]["sizes"], "sizes_small": found[small_db]["sizes"],
        "bulk_load_seconds": load_seconds, "settings": vars(args), "targets": targets,
        "queries_small": queries_small, "results": results,
    }
    (OUT / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    write_markdown(report)
    log("wrote bench/results.md and bench/out/results.json")


def mixed(wrk, port, clients, seconds):
    """Every role at once for `seconds` (16 connections in all): each client group is one wrk with
    one thread walking its own list (a ticket's steps in order)."""
    log(f"mixed: {sum(c['connections'] for c in clients)} connections for {seconds} s, every role at once")
    procs = []
    for c in clients:
        if not (OUT / c["paths_file"]).read_text().strip():
            log(f"  mixed: no {c['role']} {c['what']} left to send (no ticket in a state to move): skipped")
            continue
        first = (OUT / c["paths_file"]).read_text().split("\n", 1)[0].split("\t", 1)[0]
        cmd, env = wrk_command(wrk, f"http://127.0.0.1:{port}{first}", threads=1, connections=c["connections"],
                               seconds=seconds, timeout="20s", method=c["method"], paths_file=c["paths_file"],
                               headers=c["headers"])
        if c["method"] == "POST":
            env["BENCH_ONCE"] = "1"  # each step once: sent again it would only be refused (report.lua)
        procs.append((c, subprocess.Popen(cmd, env=env, text=True, stdout=subprocess.PIPE)))
    rows = []
    for c, p in procs:
        stdout, _ = p.communicate(timeout=seconds + 120)
        rows.append({**{k: c[k] for k in ("role", "what", "connections", "method")},
                     "tickets": c.get("tickets"), **wrk_figures(stdout)})
    errors = (OUT / "gunicorn.log").read_text() if (OUT / "gunicorn.log").exists() else ""
    log("  mixed: " + ", ".join(f"{r['role']} {r['what']} {r['rps']} req/s p95 {r['p95_ms']} ms" for r in rows))
    return {"rows": rows, "seconds": seconds, "server_errors_logged": errors.count("Internal Server Error")}


def write_markdown(r):
    res = r["results"]
    floor = [res[k]["rps"] for k in ("floor", "floor_end") if k in res]
    floor_rps = sum(floor) / len(floor) if floor else 0
    m = r["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `bench/run.sh` on {r['date']} (UTC).",
        "",
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM; {m['os']}; "
        f"Python {m['python']}; PostgreSQL {m['postgresql']}; Redis (broker and cache).",
        f"- **Load** before: {r['load_before']['loadavg']}; after: {r['load_after']['loadavg']} "
        f"(busiest processes before: {', '.join(r['load_before']['top'][:5])}).",
        f"- **Data** (`portal_bench`): {r['sizes']['tickets']:,} tickets, {r['sizes']['ticket_events']:,} ticket "
        f"events; the merchant measured is the one with the most tickets: {r['sizes']['merchant']}; the engineer's "
        f"branch has {r['sizes']['engineer_branch_open']} tickets in its queue. Small database: "
        f"{r['sizes_small']['tickets']:,} tickets.",
        f"- **Server**: gunicorn, {r['settings']['workers']} sync workers, DEBUG off, persistent DB connections; "
        f"**client**: wrk, {r['settings']['threads']} threads, {r['settings']['connections']} connections, "
        f"{r['settings']['duration']} s per page after a 2 s warm-up, on the same machine.",
        "",
        "| page | req/s | % of floor | % of empty page | p50 ms | p95 ms | p99 ms | non-2xx | SQL queries (200k / 1k) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    small = r["queries_small"]
    for t in r["targets"]:
        name = t["name"]
        for key in ([name, "floor_end"] if name == "floor" else [name]):
            if key not in res:
                continue
            x = res[key]
            pct = f"{100 * x['rps'] / floor_rps:.1f}%" if floor_rps else "–"
            of_empty = (f"{100 * x['rps'] / res['empty']['rps']:.0f}%"
                        if "empty" in res and name not in ("floor", "empty") else "–")
            label = TARGETS.get(name, name) + (" (end of run)" if key == "floor_end" else "")
            q = "–" if name == "floor" else f"{t['queries']} / {small.get(name, '–')}"
            lines.append(f"| {label} | {x['rps']} | {pct} | {of_empty} | {x['p50_ms']} | {x['p95_ms']} | {x['p99_ms']} | "
                         f"{x['non2xx']} | {q} |")
    lines += ["", "## Against the targets", ""]
    misses, met = [], []
    for t in r["targets"]:
        name = t["name"]
        if name == "floor" or name not in res:
            continue
        x = res[name]
        if name in P95_TARGETS:
            ok = x["p95_ms"] <= P95_TARGETS[name]
            (met if ok else misses).append(f"{TARGETS[name]}: p95 {x['p95_ms']} ms "
                                           f"{'≤' if ok else '>'} {P95_TARGETS[name]} ms")
        if name in PCT_TARGETS and floor_rps:
            pct, want = 100 * x["rps"] / floor_rps, PCT_TARGETS[name]
            (met if pct >= want else misses).append(f"{TARGETS[name]}: {pct:.1f}% of the floor "
                                                    f"{'≥' if pct >= want else '<'} {want}%")
        if t["queries"] > 12:
            misses.append(f"{TARGETS[name]}: {t['queries']} queries > 12")
        if name in small and small[name] != t["queries"]:
            misses.append(f"{TARGETS[name]}: {t['queries']} queries at 200k vs {small[name]} at 1k")
        if x["non2xx"]:
            misses.append(f"{TARGETS[name]}: {x['non2xx']} non-2xx answers")
    lines += [f"- MISS: {m_}" for m_ in misses] or ["- Every target met."]
    lines += [f"- met: {m_}" for m_ in met]
    if "mixed" in res:
        mix = res["mixed"]
        rows = mix["rows"]
        lines += ["", f"## Mixed workload: every role at once, {sum(x['connections'] for x in rows)} connections "
                  f"for {mix['seconds']} s", "",
                  f"{sum(x['requests'] for x in rows):,} requests, {sum(x['non2xx'] for x in rows)} non-2xx, "
                  f"{mix['server_errors_logged']} server errors logged by gunicorn. Steps are API transitions "
                  "(agents take and escalate the measured merchant's new tickets to the engineer's branch; "
                  "engineers move their branch's tickets along); each step is sent once, and a group whose "
                  "steps run out stops (its req/s is over the whole run).", "",
                  "| role | what | connections | tickets | requests | req/s | p50 ms | p95 ms | p99 ms | non-2xx | errors |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {x['role']} | {x['what']} | {x['connections']} | {x.get('tickets') or '–'} | {x['requests']} | "
                  f"{x['rps']} | {x['p50_ms']} | {x['p95_ms']} | {x['p99_ms']} | {x['non2xx']} | "
                  f"{x['errors'] - x['non2xx']} |" for x in rows]
    if "soak" in res:
        soak_ = {k: v for k, v in res["soak"].items() if not k.startswith("_")}
        total = sum(v["requests"] for v in soak_.values())
        bad = sum(v["non2xx"] for v in soak_.values())
        conns = sum(v["connections"] for v in soak_.values())
        seconds = r["settings"]["soak"]
        lines += ["", f"## Soak: {conns} clients for {seconds} s on the main pages", "",
                  f"{total:,} requests, {bad} non-2xx answers, {res['soak']['_server_errors_logged']} server "
                  "errors logged by gunicorn.", "", "| page | clients | req/s | p95 ms | p99 ms | non-2xx |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {TARGETS[k]} | {v['connections']} | {v['rps']} | {v['p95_ms']} | {v['p99_ms']} | {v['non2xx']} |"
                  for k, v in soak_.items()]
    bulk = {k: v for k, v in r["bulk_load_seconds"].items() if v}
    if bulk:
        lines += ["", "Bulk data loaded in this run: " + ", ".join(f"{k} {v:.0f} s" for k, v in bulk.items()) + "."]
    path = ROOT / "bench" / "results.md"
    notes = ""
    if path.exists() and "<!-- notes -->" in path.read_text():
        notes = path.read_text().split("<!-- notes -->", 1)[1]
    path.write_text("\n".join(lines) + "\n\n<!-- notes -->" + notes)


if __name__ == "__main__":
    main()
