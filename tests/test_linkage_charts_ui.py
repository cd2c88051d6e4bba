"""The model's charts show in the Dagster UI itself: a real linkage/model materialisation, a real
dagster-webserver, headless Chromium opening the chart from the asset's metadata."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from linkage_people import people, write_identity_db
from local_servers import free_port, stop_process_group

from hub_assets.defs.linkage.assets import linkage_model
from hub_assets.defs.resources import HubResource

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("webserver")]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEFS = """
import os
import dagster as dg
from hub_assets.defs.linkage.assets import linkage_model
from hub_assets.defs.resources import HubResource

defs = dg.Definitions(assets=[linkage_model], resources={"hub": HubResource(
    data_dir=os.environ["HUB_DATA_DIR"], secret_key=os.environ["HUB_SECRET_KEY"])})
"""


def test_model_charts_open_as_images_in_the_dagster_ui(tmp_path, hub_data_dir, hub: HubResource):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian package `chromium` (scripts/ci-system-deps.sh)")
    from playwright.sync_api import sync_playwright

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    records, _ = people(150, seed=5)
    write_identity_db(hub.paths.identity_db, records)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        assert dg.materialize([linkage_model], resources={"hub": hub}, instance=instance).success
    defs = tmp_path / "defs.py"
    defs.write_text(DEFS)

    port = free_port()
    log = tmp_path / "webserver.log"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    with log.open("w") as out:
        server = subprocess.Popen([str(Path(sys.executable).parent / "dagster-webserver"), "-h", "127.0.0.1",
                                   "-p", str(port), "-f", str(defs)], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(1)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/assets/linkage/model")
                page.get_by_text("match_weights_chart").first.wait_for(timeout=60_000)
                # Dispatched to the link itself: a first-visit dialog may lie over the page.
                page.locator("tr", has_text="match_weights_chart").get_by_text(
                    "[Show Markdown]").dispatch_event("click")
                image = page.locator("img[src^='data:image/png;base64,']")
                image.first.wait_for(timeout=30_000)
                width, height = image.first.evaluate("e => [e.naturalWidth, e.naturalHeight]")
                assert width > 300 and height > 200  # decoded and drawn, not a broken image
            finally:
                browser.close()
    finally:
        stop_process_group(server)
