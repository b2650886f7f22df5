"""The dashboard in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven
by Selenium loads the page from a `gavel serve` on a store with real judgments (SmolLM2-135M:
a `gavel judge` run on labelled LLMBar pairs, judge-API calls for a pairwise batch and a
critique), then the same views from `gavel report`'s single HTML file. Checks the tables'
rows against /api/report, that every chart drew marks, that one judgment shows its prompts, and
that the console has no errors. Screenshots go to build/test-output/dashboard/ (or
$GAVEL_TEST_OUT/dashboard)."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, SHARED, SMOLLM2, real_model
from server_util import Server, request

OUT = pathlib.Path(os.environ.get("GAVEL_TEST_OUT", ROOT / "build/test-output")) / "dashboard"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]


def shortest_pairs(n):
    rows = [json.loads(x) for x in (SHARED / "data/bench/llmbar/pairs.jsonl").read_text().splitlines()]
    rows.sort(key=lambda r: len(r["instruction"]) + len(r["response_a"]) + len(r["response_b"]))
    return rows[:n]


def post(url, body):
    status, out = request(url, body)
    assert status == 200, out
    return out


@pytest.fixture(scope="module")
def store(gavel_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("dash")
    pairs = shortest_pairs(8)
    (d / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs[:6]))
    r = subprocess.run([str(gavel_bin), "judge", "--model", str(real_model(SMOLLM2)), "--input",
                        str(d / "pairs.jsonl"), "--out", str(d / "out.jsonl"), "--store",
                        str(d / "s.sqlite"), "--no-progress"], capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stderr
    return d / "s.sqlite", pairs


@pytest.fixture(scope="module")
def server(gavel_bin, store):
    path, pairs = store
    s = Server(gavel_bin, real_model(SMOLLM2), path, "--quiet")
    # The judge API adds a run of its own: two new pairs and one critique.
    post(s.url + "/v1/judge/pairwise", {"items": [
        {"id": p["id"], "instruction": p["instruction"], "A": p["response_a"], "B": p["response_b"],
         "label": p["label"]} for p in pairs[6:8]]})
    post(s.url + "/v1/judge/critique", {"mode": "absolute", "instruction": "Say hi.",
                                        "response": "Hi!", "max_tokens": 24,
                                        "rubric": "[Is it polite?]\nScore 1: rude\nScore 2: curt\n"
                                                  "Score 3: plain\nScore 4: kind\nScore 5: warm"})
    # A tournament job over four writers' answers to two prompts.
    status, out = request(s.url + "/v1/tournaments", {
        "name": "greetings", "prompts": ["Say hello.", "Name a colour."], "rounds": 2,
        "bootstrap": 50, "writers": [{"name": n, "responses": r} for n, r in [
            ("terse", ["Hi.", "Red."]), ("polite", ["Hello, how are you?", "Blue, I think."]),
            ("wrong", ["Goodbye.", "Seven."]), ("long", ["Hello there, my good friend!",
                                                          "Green, like the grass in spring."])]]})
    assert status == 202, out
    deadline = time.time() + 600
    while request(f"{s.url}/v1/tournaments/{out['id']}")[1]["status"] != "done":
        assert time.time() < deadline, "the tournament did not finish"
        time.sleep(0.5)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    for exe in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not pathlib.Path(exe).exists():
            pytest.fail(f"{exe} missing (apt install chromium chromium-driver; scripts/setup.sh)")
    profile = tempfile.mkdtemp(prefix="gavel-chromium-")
    opts = webdriver.ChromeOptions()
    for f in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(f)
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def load(browser, url):
    browser.get(url)
    deadline = time.time() + 60
    while browser.find_element("tag name", "body").get_attribute("data-ready") != "1":
        assert time.time() < deadline, "the page never finished rendering"
        time.sleep(0.2)


def screenshot(browser, name):
    OUT.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, max(1000, height + 50))
    path = OUT / name
    browser.save_screenshot(str(path))
    print("screenshot:", path)
    return path


def check_views(browser, data):
    from selenium.webdriver.common.by import By
    errors = browser.find_element(By.ID, "error").text
    assert errors == "", errors
    # Runs: one table row per run (header row aside).
    runs = browser.find_elements(By.CSS_SELECTOR, "#runs-body table tr")
    assert len(runs) == 1 + len(data["runs"]) >= 3
    kinds = {r.find_elements(By.TAG_NAME, "td")[1].text for r in runs[1:]}
    assert kinds == {"judge", "serve", "tournament"}
    # The tournament's leaderboard: one row per writer, in the order of /api/report.
    board = data["tournaments"][0]["result"]["leaderboard"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#tournaments-body table tr")[1:]
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == [b["writer"] for b in board]
    assert [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows] == \
        [f"{b['rating']:.1f}" for b in board]
    # Meta-evaluation: the judge run and the server's pairwise run are evaluated.
    cards = browser.find_elements(By.CSS_SELECTOR, "#meta-body .card")
    assert len(cards) == len(data["meta"]) == 2
    # Every chart drew marks.
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    names = [c.get_attribute("data-chart") for c in charts]
    assert {"calibration", "meta-bias", "leaderboard", "tournament-bias", "rounds",
            "heatmap"} <= set(names), names
    for c in charts:
        assert int(c.get_attribute("data-marks") or 0) > 0, c.get_attribute("data-chart")
    # One judgment: clicking the critique shows its text and prompt.
    rows = browser.find_elements(By.CSS_SELECTOR, "#judgments-body table tr.clickable")
    assert len(rows) == len(data["judgments"]) == data["judgment_count"] >= 10
    critique = [r for r in rows if "critique" in r.text]
    assert len(critique) == 1
    critique[0].click()
    deadline = time.time() + 10
    while "Critique" not in browser.find_element(By.ID, "judgment-detail").text:
        assert time.time() < deadline, "the critique did not show"
        time.sleep(0.1)
    detail = browser.find_element(By.ID, "judgment-detail")
    assert "Rendered prompt" in detail.text and "Say hi." in detail.text
    rec = next(j for j in data["judgments"] if j["protocol"] == "critique")["record"]
    assert f"outcome: {rec['outcome']}" in detail.text
    verdict = browser.find_elements(By.CSS_SELECTOR, "svg[data-chart=judgment-verdict]")
    if rec["verdict"]:  # a Result marker was written: its five probabilities are drawn
        assert int(verdict[0].get_attribute("data-marks")) == 5
    else:
        assert verdict == []
    rows[-1].click()  # a pairwise judgment: both passes and two prompts
    deadline = time.time() + 10
    while "pass 2" not in browser.find_element(By.ID, "judgment-detail").text:
        assert time.time() < deadline, "the pairwise judgment did not show"
        time.sleep(0.1)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#judgment-detail pre")) == 2
    assert int(browser.find_element(By.CSS_SELECTOR, "svg[data-chart=judgment-passes]")
               .get_attribute("data-marks")) == 4


def console_errors(browser):
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_dashboard_served(server, browser):
    status, data = request(server.url + "/api/report")
    assert status == 200, data
    load(browser, server.url + "/")
    check_views(browser, data)
    screenshot(browser, "served.png")
    assert console_errors(browser) == []


def test_report_file_has_the_same_views(gavel_bin, server, store, browser, tmp_path):
    out = tmp_path / "report.html"
    r = subprocess.run([str(gavel_bin), "report", "--store", str(store[0]), "-o", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    status, data = request(server.url + "/api/report")
    assert status == 200, data
    load(browser, out.as_uri())
    check_views(browser, data)
    screenshot(browser, "report.png")
    assert console_errors(browser) == []


def test_report_errors_name_the_file(gavel_bin, store, tmp_path):
    r = subprocess.run([str(gavel_bin), "report", "--store", str(tmp_path / "none.sqlite"), "-o",
                        str(tmp_path / "r.html")], capture_output=True, text=True)
    assert r.returncode != 0 and "none.sqlite: no such store" in r.stderr
    assert not (tmp_path / "none.sqlite").exists()  # not created by the attempt
    r = subprocess.run([str(gavel_bin), "report", "--store", str(store[0]), "-o",
                        str(tmp_path / "missing-dir" / "r.html")], capture_output=True, text=True)
    assert r.returncode != 0 and "missing-dir" in r.stderr
