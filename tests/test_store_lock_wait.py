"""A reader of a store never fails on another process's lock: it waits until the other
process closes its connection (a check reading the warehouse while a writer step holds it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from hub_assets.defs.resources import HubResource

HOLD_WRITER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("create table if not exists t as select 42 as answer")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


def test_a_reader_waits_for_a_writer_in_another_process(hub):
    writer = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, str(hub.paths.warehouse_db), "3"],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "holding"
    started = time.monotonic()
    with hub.warehouse(read_only=True) as con:
        answer = con.execute("select answer from t").fetchall()
    waited = time.monotonic() - started
    writer.wait(timeout=30)
    assert answer == [(42,)]
    assert waited > 1.0  # it did wait for the writer rather than reading past it


def test_a_writer_waits_for_a_reader_in_another_process(hub: HubResource):
    with hub.warehouse() as con:
        con.execute("create table t as select 1 as n")
    reader = subprocess.Popen([sys.executable, "-c", HOLD_WRITER.replace(
        "duckdb.connect(sys.argv[1])", "duckdb.connect(sys.argv[1], read_only=True)").replace(
        'con.execute("create table if not exists t as select 42 as answer")', ""),
        str(hub.paths.warehouse_db), "3"], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "holding"
    with hub.warehouse() as con:
        con.execute("insert into t values (2)")
        assert con.execute("select count(*) from t").fetchall() == [(2,)]
    reader.wait(timeout=30)
