"""README's API example, run as written against a live portal with the demo data, so it stays true."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

README = Path(__file__).resolve().parents[2] / "README.md"


def _example():
    section = README.read_text(encoding="utf-8").split("## The API in five minutes", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_takes_a_repair_to_closed_and_an_application_through_review(live_server, settings):
    settings.DEMO_DATA_ALLOWED = True
    call_command("seed_demo", verbosity=0)
    code = _example()
    assert 'BASE = "http://127.0.0.1:8000/api/v1"' in code
    code = code.replace("http://127.0.0.1:8000", live_server.url)
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - our own README's code
    assert namespace["approved"]["status"] == "approved"
    assert namespace["call"](namespace["merchant"], "GET", f"/tickets/{namespace['no']}/")["status"] == "closed"
