"""`biglab web` in a real browser: Debian's headless chromium driven by Selenium (chromium-driver,
no browser download). Open the topology page of a running ha-pair, read the states, kill the active
from the Faults page, and see the standby turn Active and the floating address move in the page
(a deadline wait). Screenshots are kept under build/test-artifacts/web/."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.lab.conftest import HA_PAIR, ROOT, biglab, module_lab, wait_for

LAB = "twb"
VIP = "10.1.10.100"
ARTEFACTS = ROOT / "build" / "test-artifacts" / "web"
lab = module_lab(HA_PAIR, LAB, "10.250.70.0/24")

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def until(browser, timeout: float, check):
    """Wait for `check(browser)` with a deadline; a live part replaced while it is read is read again."""
    return WebDriverWait(browser, timeout, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException,)).until(check)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(*args) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "web", *args, "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def web(lab):
    proc, port = start_web(LAB)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(f"{url}/lab/{LAB}/"), 15, what="biglab web to answer")
        yield url
    finally:
        stop(proc)


def _get(url):
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/bootstrap.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(a)
    b = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield b
    finally:
        b.quit()


def shot(browser, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTEFACTS / f"{name}.png"))


def states(browser) -> dict[str, tuple[str, str]]:
    """node -> (state, floating addresses) as the page's node table shows them now."""
    out = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "#nodes tr[data-node]"):
        out[row.get_attribute("data-node")] = (row.find_element(By.CSS_SELECTOR, ".state").text.strip(),
                                               row.find_element(By.CSS_SELECTOR, ".floating").text)
    return out


def settled(browser):
    s = states(browser)
    active = [n for n in ("bigip1", "bigip2") if s.get(n, ("",))[0].startswith("ACTIVE")]
    standby = [n for n in ("bigip1", "bigip2") if s.get(n, ("",))[0].startswith("STANDBY")]
    return (active[0], standby[0]) if len(active) == 1 and len(standby) == 1 and VIP in s[active[0]][1] else None


@pytest.mark.lab
def test_kill_the_active_from_the_faults_page_and_see_the_standby_take_over(lab, web, browser):
    try:
        browser.get(f"{web}/lab/{LAB}/")
        active, standby = until(browser, 30, settled)
        assert browser.find_element(By.CSS_SELECTOR, "#diagram svg")   # the Graphviz picture is in the page
        assert active in browser.find_element(By.ID, "diagram").text
        shot(browser, "1-topology")

        browser.get(f"{web}/lab/{LAB}/faults")
        until(browser, 10, lambda b: states(b).get(active, ("",))[0].startswith("ACTIVE"))
        Select(browser.find_element(By.ID, "verb")).select_by_visible_text("kill")
        browser.find_element(By.ID, "args").send_keys(active)
        browser.find_element(By.ID, "inject").click()

        def taken_over(b):
            s = states(b)
            return s[standby][0].startswith("ACTIVE") and VIP in s[standby][1] and VIP not in s[active][1]
        until(browser, 5, taken_over)   # the deadline: the page shows it within 5 s
        assert "daemon killed" in browser.find_element(By.ID, "fault-result").text
        shot(browser, "2-faults-after-kill")
    finally:
        biglab("chaos", LAB, "reset", check=False)


@pytest.mark.lab
def test_bad_fault_arguments_show_the_registry_error(lab, web, browser):
    browser.get(f"{web}/lab/{LAB}/faults")
    Select(browser.find_element(By.ID, "verb")).select_by_visible_text("kill")
    browser.find_element(By.ID, "args").send_keys("nosuchnode")
    browser.find_element(By.ID, "inject").click()
    until(browser, 5, lambda b: b.find_element(By.ID, "fault-result").text)
    assert browser.find_element(By.ID, "fault-result").text == \
        "lab twb has no node 'nosuchnode' (nodes: bigip1, bigip2, client, web1, web2)"
    r = httpx.post(f"{web}/lab/{LAB}/fault", data={"verb": "link", "args": "bigip1 down"})
    assert r.status_code == 400 and r.json() == {"ok": False, "error": "'bigip1': give the interface as NODE:VLAN"}


@pytest.mark.lab
def test_an_unknown_lab_or_node_is_a_clear_page(lab, web, browser):
    browser.get(f"{web}/lab/{LAB}/node/nosuchnode")
    assert "has no node 'nosuchnode'" in browser.find_element(By.ID, "error").text
    r = httpx.get(f"{web}/lab/nosuchlab/")
    assert r.status_code == 404 and "nosuchlab" in r.text and "Traceback" not in r.text
    proc, port = start_web("nosuchlab")
    try:
        assert proc.wait(30) == 1 and "no lab named 'nosuchlab' is up" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            stop(proc)


@pytest.mark.lab
def test_the_node_page_shows_ha_members_and_the_log(lab, web, browser):
    browser.get(f"{web}/lab/{LAB}/node/bigip1")
    until(browser, 10, lambda b: b.find_elements(By.ID, "pools"))
    members = browser.find_elements(By.CSS_SELECTOR, "#pools tr[data-member]")
    assert {m.get_attribute("data-member") for m in members} == {"/Common/web_pool//Common/10.1.20.21:80", "/Common/web_pool//Common/10.1.20.22:80"}
    assert "Sync status changed" in browser.find_element(By.ID, "log").text


@pytest.mark.lab
def test_listen_asks_for_the_lab_admin_credentials(lab):
    address = "10.250.70.1"   # the host's address on the lab's management bridge: lab-only
    proc, port = start_web(LAB, "--listen", address)
    try:
        url = f"http://{address}:{port}/lab/{LAB}/"
        wait_for(lambda: _answers(url), 15, what="biglab web --listen")
        assert httpx.get(url, timeout=5).status_code == 401
        assert httpx.get(url, auth=("admin", "wrong"), timeout=5).status_code == 401
        assert httpx.get(url, auth=("admin", "admin"), timeout=5).status_code == 200
    finally:
        stop(proc)


def _answers(url):
    try:
        httpx.get(url, timeout=2)
        return True
    except httpx.HTTPError:
        time.sleep(0.1)
        return False


@pytest.mark.lab
def test_a_scenario_runs_from_the_faults_page_with_its_expectations_live(lab, web, browser):
    try:
        browser.get(f"{web}/lab/{LAB}/faults")
        until(browser, 30, settled_on_faults_page)
        Select(browser.find_element(By.ID, "scenario")).select_by_visible_text("failover-active-kill.yml")
        browser.find_element(By.ID, "run-scenario").click()
        until(browser, 15, lambda b: "PASS fault kill" in b.find_element(By.ID, "scenario-log").text)
        until(browser, 60, lambda b: "result: " in b.find_element(By.ID, "scenario-log").text)
        log = browser.find_element(By.ID, "scenario-log").text
        shot(browser, "3-scenario")
        assert "result: PASS" in log, log
    finally:
        biglab("chaos", LAB, "reset", check=False)


def settled_on_faults_page(b):
    s = states(b)
    return sorted(v[0].split()[0] for k, v in s.items() if k.startswith("bigip")) == ["ACTIVE", "STANDBY"]


GTM_3DC = ROOT / "topologies" / "gtm-3dc.yml"
gtm_lab = module_lab(GTM_3DC, "twg", "10.250.75.0/24")


@pytest.mark.lab
def test_the_gtm_page_shows_each_region_answered_by_its_own_data_center_and_why(gtm_lab, browser):
    proc, port = start_web(gtm_lab)
    try:
        url = f"http://127.0.0.1:{port}/lab/{gtm_lab}/gtm"
        wait_for(lambda: _get(url), 15, what="biglab web")
        browser.get(url)

        def rows(b):
            got = {(r.get_attribute("data-client"), r.find_element(By.CSS_SELECTOR, ".dc").text,
                    r.find_element(By.CSS_SELECTOR, ".why").text.splitlines()[0])
                   for r in b.find_elements(By.CSS_SELECTOR, "#answers tr[data-client]")}
            return got if len(got) == 3 and all(dc != "-" for _, dc, _ in got) else None
        got = until(browser, 30, rows)
        assert got == {("client-nyc", "nyc", "topology score nyc 100, lon 50, sgp 10"),
                       ("client-lon", "lon", "topology score lon 100, nyc 50, sgp 10"),
                       ("client-sgp", "sgp", "topology score sgp 100, lon 50, nyc 10")}
        shot(browser, "4-gtm")
        browser.get(f"http://127.0.0.1:{port}/lab/{gtm_lab}/node/gtm1")
        wip = until(browser, 15, lambda b: b.find_elements(By.CSS_SELECTOR, "#wideips tr[data-wideip]"))
        assert [w.get_attribute("data-wideip") for w in wip] == ["/Common/www.example.com"]
        assert "www_pool" in wip[0].text and "topology" in wip[0].text
    finally:
        stop(proc)
