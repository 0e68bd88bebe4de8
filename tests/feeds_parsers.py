"""Independent parsers for feed tests: ical.js (Thunderbird's parser) run by
Node from tests/js, next to icalendar and recurring-ical-events in Python.

``icaljs`` writes the feed to a file and runs ``tests/js/parse_feed.mjs``
with ``TZ=UTC``; ical.js has no time-zone database, so the instants it
prints come from the feed's VTIMEZONE alone. The tests that need it are
skipped only when ``node`` is not installed; a missing ``node_modules`` is
installed here with ``npm ci`` from the committed lockfile.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the ical.js feed parser cannot run "
                         "(install Node.js to run these tests)")


def _ensure_icaljs() -> None:
    if (JS_DIR / "node_modules" / "ical.js" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("node is installed but npm is not: cannot install ical.js "
                    "(run `npm ci` in tests/js)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=JS_DIR,
                   check=True, timeout=300)


def icaljs(body: bytes, tmp_path: Path, *, drop_vtimezone: bool = False) -> dict:
    """Parse ``body`` with ical.js; returns {calname, registered, events}."""
    _ensure_icaljs()
    feed = tmp_path / "feed.ics"
    feed.write_bytes(body)
    args = [NODE, str(JS_DIR / "parse_feed.mjs"), str(feed)]
    if drop_vtimezone:
        args.append("--drop-vtimezone")
    done = subprocess.run(args, cwd=JS_DIR, capture_output=True, timeout=60,
                          env={**os.environ, "TZ": "UTC"})
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def js_instant(text: str) -> datetime:
    """ical.js' ``2026-03-09T21:00:00.000Z`` as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
