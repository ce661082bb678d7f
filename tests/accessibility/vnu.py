"""The Nu Html Checker (vnu.jar, from the npm package vnu-jar), run once over many documents.

Starting the JVM takes seconds, so every page is written to one folder and checked in one run.
Java comes from Debian (default-jre-headless): `.ci/run` and `make test` install it when missing.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

JAR = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# htmx's attributes are not HTML's own; vnu reports each one as not allowed.
FILTER = r"Attribute “hx-[a-z-]+” not allowed on element “[a-z0-9]+” at this point\."

# An htmx partial is checked inside a minimal document of its own.
SHELL = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fragment</title></head><body>{}</body></html>'


def java():
    """The java binary, or fail (CI) / skip (elsewhere) saying what to install."""
    found = shutil.which("java")
    if found and JAR.exists():
        return found
    missing = "java (apt-get install default-jre-headless)" if not found else f"{JAR} (npm ci)"
    if os.environ.get("CI"):
        pytest.fail(f"the HTML validator needs {missing}")
    pytest.skip(f"the HTML validator needs {missing}: `make test` installs it")


def validate(documents):
    """Check {name: html}; return {name: [error message dicts]} for the documents with errors."""
    binary = java()
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        files = {}
        for i, (name, html) in enumerate(documents.items()):
            path = Path(folder) / f"{i:05d}.html"
            path.write_text(html, encoding="utf-8")
            files[path.resolve().as_uri()] = name
        run = subprocess.run(
            [binary, "-Xss4m", "-jar", str(JAR), "--format", "json", "--errors-only", "--filterpattern", FILTER,
             folder],
            capture_output=True, text=True, timeout=600, check=False,
        )
        try:
            messages = json.loads(run.stderr)["messages"]
        except (ValueError, KeyError):
            raise AssertionError(f"vnu.jar gave no report (exit {run.returncode}): {run.stderr[:2000]}") from None
    errors = {}
    for message in messages:
        url = message.get("url", "")
        name = files.get(url) or files.get(url.replace("file:/", "file:///", 1)) or url
        errors.setdefault(name, []).append(message)
    return errors


def report(errors, limit=40):
    """A readable summary: each distinct message once, with the pages that have it."""
    by_message = {}
    for name, messages in errors.items():
        for m in messages:
            key = m["message"]
            by_message.setdefault(key, {"pages": [], "extract": m.get("extract", "")})["pages"].append(name)
    lines = [f"{sum(len(m) for m in errors.values())} validator errors on {len(errors)} pages:"]
    for key, seen in sorted(by_message.items(), key=lambda kv: -len(kv[1]["pages"]))[:limit]:
        pages = sorted(set(seen["pages"]))
        lines.append(f"- {key} ({len(seen['pages'])}×, e.g. {', '.join(pages[:3])})")
        lines.append(f"    {seen['extract'].strip()[:200]!r}")
    return "\n".join(lines)
