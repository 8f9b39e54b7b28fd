"""The service's page in a real browser: headless Chromium types a sentence and sees its entities."""

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    if os.environ.get("NER_REQUIRE_BROWSER"):
        raise RuntimeError("NER_REQUIRE_BROWSER is set but chromium or chromedriver is missing")
    pytest.skip(
        "needs Debian's chromium and chromium-driver (.ci/run installs them)", allow_module_level=True
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.conftest import LEGACY_RUN, service  # noqa: E402

pytestmark = pytest.mark.e2e

RUN = LEGACY_RUN


@pytest.fixture
def server():
    with service(RUN) as url:
        yield url


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_the_page_highlights_the_entities_of_a_typed_sentence(server, browser, tmp_path):
    browser.get(server)
    text = "Acme Corp hires Anna Smith in Rome."  # the fixture run, trained on a toy corpus, tags these
    browser.find_element(By.ID, "text").send_keys(text)
    browser.find_element(By.ID, "submit").click()
    wait = WebDriverWait(browser, 30)
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#result mark.entity")))
    shown = browser.execute_script(
        "return [...document.querySelectorAll('#result mark.entity')].map("
        "m => [m.firstChild.nodeValue, m.dataset.label, m.title, getComputedStyle(m).backgroundColor])"
    )
    request = urllib.request.Request(
        f"{server}/v1/entities",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    expected = json.loads(urllib.request.urlopen(request).read())["entities"]
    assert [(s[0], s[1]) for s in shown] == [(e["text"], e["label"]) for e in expected]
    assert all(s[2] == f"{e['label']} {e['score']:.3f}" for s, e in zip(shown, expected, strict=True))
    assert all(s[3] not in ("", "rgba(0, 0, 0, 0)") for s in shown)
    without_labels = browser.execute_script(
        "const copy = document.getElementById('result').cloneNode(true);"
        "copy.querySelectorAll('mark span').forEach(s => s.remove()); return copy.textContent"
    )
    assert without_labels == text
    count = browser.find_element(By.ID, "status").text
    assert count == f"{len(expected)} {'entity' if len(expected) == 1 else 'entities'}"
    screenshot = Path(os.environ.get("NER_SCREENSHOT_DIR", tmp_path)) / "page.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:4] == b"\x89PNG"
