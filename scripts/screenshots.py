"""What each role sees: screenshots of the demo portal for the README, taken in Chromium.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshots/*.png

It builds a throw-away SQLite portal with the demo data (seed_demo), serves it with runserver on a
free port, signs in as each demo user in Chromium (Debian's, CHROMIUM_PATH) and goes through the
pages of the demo journeys: the merchant's home and ticket (also on a phone), the agent's desk, the
engineer's branch queue, the reviewer's application and reports, public tracking. Run it again
after changing a page, so the README shows the portal as it is.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-pass-2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder):
    """A demo portal of its own (its own SQLite file), served until the script ends."""
    env = {**os.environ, "DEBUG": "1", "DEMO_DATA_ALLOWED": "1", "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3",
           "MEDIA_ROOT": f"{folder}/media", "REDIS_URL": "", "SMS_BACKEND": "notifications.sms.LocmemBackend"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run(manage + command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(manage + ["runserver", f"127.0.0.1:{port}", "--noreload"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 - our own local server
            return server, base
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the demo server did not start")


def sign_in(page, username, language="en"):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state()
    if page.locator("html").get_attribute("lang") != language:
        with page.expect_navigation():
            page.select_option("#language-select", language)


def first_link(page, selector):
    href = page.locator(selector).first.get_attribute("href")
    page.goto(href)


def shots(page, out):
    def shot(name, *, full=False):
        page.wait_for_load_state("networkidle")
        page.screenshot(path=out / f"{name}.png", full_page=full)
        print(f"  {name}.png")

    sign_in(page, "merchant")
    page.goto("/")
    shot("merchant-home")
    page.goto("/tickets/")
    first_link(page, "table a[href^='/tickets/SO']")
    shot("merchant-ticket")
    number = page.get_by_test_id("service-order-no").inner_text().strip()
    tag = page.get_by_test_id("terminal-serial").locator("xpath=..").locator(".small .font-monospace").inner_text()
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    shot("merchant-ticket-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    sign_in(page, "merchant", "zh-hans")
    page.goto("/")
    shot("merchant-home-zh")

    sign_in(page, "agent")
    page.goto("/")
    shot("agent-desk")

    sign_in(page, "engineer")
    page.goto("/tickets/")
    shot("engineer-queue")

    sign_in(page, "reviewer")
    page.goto("/applications/queue/")
    first_link(page, "[data-testid=queue-link]")
    shot("reviewer-application")
    page.goto("/reports/")
    shot("reviewer-reports")

    page.context.clear_cookies()
    page.goto(f"/track/?no={number}&tag={tag}")
    shot("public-tracking")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="folder for the PNGs")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="portal-screenshots-") as folder:
        server, base = serve(folder)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
                context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800}, locale="en-US",
                                              timezone_id="Asia/Shanghai")
                shots(context.new_page(), out)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
