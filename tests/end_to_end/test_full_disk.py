"""A full disk is reported as a full disk, naming the directory and its free space, and once
space is freed the next ``hub run`` completes (no run left holding the writer slot).

The hub runs on a small tmpfs, mounted in a private user and mount namespace (``unshare -Urm``)
so the test needs no root; the disk is then filled to its last megabyte."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from hub_assets.settings import FIXTURE_CITY_DIR

from .conftest import E2E_SECRET_KEY

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub_build")]

SCRIPT = textwrap.dedent("""
    set -u
    mount -t tmpfs -o size=256m tmpfs "$DISK"
    cp -r "$CITY/landing" "$DISK/landing"
    head -c $(( $(df --output=avail -B1 "$DISK" | tail -1) - 1000000 )) /dev/zero > "$DISK/filler"
    "$PY" -m hub_assets.cli run > "$OUT/full.out" 2> "$OUT/full.err"; echo $? > "$OUT/full.rc"
    rm "$DISK/filler"
    "$PY" -m hub_assets.cli run > "$OUT/freed.out" 2> "$OUT/freed.err"; echo $? > "$OUT/freed.rc"
""")


def test_a_full_disk_is_named_and_the_run_after_freeing_space_completes(tmp_path):
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    env = dict(os.environ, DISK=str(disk), OUT=str(out), CITY=str(FIXTURE_CITY_DIR), PY=sys.executable,
               HUB_DATA_DIR=str(disk), HUB_SECRET_KEY=E2E_SECRET_KEY, DAGSTER_HOME=str(disk / ".dagster"))
    done = subprocess.run(["unshare", "-Urm", "bash", "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=3600)
    assert done.returncode == 0, done.stderr

    full_err = (out / "full.err").read_text()
    assert (out / "full.rc").read_text().strip() == "1"
    assert "the disk is full" in full_err, full_err[-4000:]
    assert f"{disk}: " in full_err and "MB free of" in full_err

    freed_out, freed_err = (out / "freed.out").read_text(), (out / "freed.err").read_text()
    assert (out / "freed.rc").read_text().strip() == "0", freed_out[-3000:] + freed_err[-3000:]
    assert "findings page" in freed_out
