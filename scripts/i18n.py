#!/usr/bin/env python
"""Translation catalogue tools that need no GNU gettext at run time.

  extract   re-extract every msgid into locale/zh_Hans (needs xgettext; a developer's step)
  compile   compile every .po into .mo with polib (make run / make test do this)
  update    extract, then fill from every locale/zh_Hans/fill/*.json (each area owns one file)
  fill F    merge a JSON file {msgid: msgstr} into the zh_Hans catalogue (plural: [one, other])
  missing   list msgids without a translation (exit 1 if any)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def extract():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "1"}
    subprocess.run(
        [
            sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location",
            "--no-obsolete", "--ignore", ".venv/*", "--ignore", "node_modules/*",
            "--ignore", "staticfiles/*", "--ignore", "tests/*", "--ignore", "bench/*",
            "--ignore", "var/*",
        ],
        cwd=ROOT, env=env, check=True,
    )


def compile_all():
    for po_path in (ROOT / "locale").glob("*/LC_MESSAGES/*.po"):
        polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))


def fill(path):
    translations = json.loads(Path(path).read_text(encoding="utf-8"))
    po = polib.pofile(str(PO))
    po.metadata_is_fuzzy = False
    done = 0
    for entry in po:
        if entry.msgid in translations:
            value = translations[entry.msgid]
            if entry.msgid_plural:
                forms = value if isinstance(value, list) else [value]
                entry.msgstr_plural = {0: forms[-1]}
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            done += 1
    po.metadata["Language"] = "zh_Hans"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    tmp = PO.with_suffix(".po.tmp")
    po.save(str(tmp))
    tmp.replace(PO)
    print(f"filled {done} of {len(translations)} given")


def missing():
    po = polib.pofile(str(PO))
    todo = [e for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    for e in todo:
        print(json.dumps(e.msgid, ensure_ascii=False))
    return 1 if todo else 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "extract":
        extract()
    elif cmd == "update":
        extract()
        for f in sorted((ROOT / "locale" / "zh_Hans" / "fill").glob("*.json")):
            fill(f)
        sys.exit(missing())
    elif cmd == "compile":
        compile_all()
    elif cmd == "fill":
        fill(sys.argv[2])
    elif cmd == "missing":
        sys.exit(missing())
    else:
        print(__doc__)
        sys.exit(2)
