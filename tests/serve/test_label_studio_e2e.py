"""The annotation loop with a real Label Studio (the `label-studio` package in its own virtual environment,
SQLite, on localhost): a project with an NER labeling config and tasks, `ner serve` connected as its ML
backend, predictions with scores on the tasks; then annotations, training asked for through Label
Studio, and a new model version answering. With Chromium, a screenshot of a pre-annotated task."""

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import LEGACY_RUN, TOOLS_VENV, free_port, require_tool, service

pytestmark = pytest.mark.e2e

LABEL_STUDIO = TOOLS_VENV / "bin" / "label-studio"
require_tool(LABEL_STUDIO)

TOKEN = "ner-test-token-0123456789abcdef"
USER, PASSWORD = "annotator@example.com", "ner-test-password"
CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="PERSON"/><Label value="LOC"/><Label value="ORG"/><Label value="MISC"/><Label value="DATE"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""
# Sentences in the words of the fixture run's toy corpus, which it tags.
TEXTS = [
    "Anna Smith lives in Rome near Acme Corp.",
    "Acme Corp hires Smith in Rome.",
    "Anna visits Rome.",
    "Smith lives in Rome near Acme Corp.",
    "Nothing to see here.",
]


class LabelStudio:
    """A Label Studio server's API, as its token reads it."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                text = response.read()
        except urllib.error.HTTPError as err:
            pytest.fail(f"{method} {path}: {err.code} {err.read().decode()[:500]}")
        return json.loads(text) if text else None

    def tasks(self, project: int) -> list[dict]:
        found = self.call("GET", f"/api/tasks?project={project}&fields=all&page_size=100")
        return found["tasks"] if isinstance(found, dict) else found


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    """A Label Studio on a free port with a known user and token; its API."""
    port = free_port()
    data = tmp_path_factory.mktemp("label-studio")
    env = os.environ | {
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        # The ML backend is on this machine: let Label Studio call it, and its webhook, on loopback.
        "ML_BLOCK_LOCAL_IP": "false",
        "USE_DEFAULT_BANNED_SUBNETS": "false",
    }
    command = [str(LABEL_STUDIO), "start", "--no-browser", "--port", str(port), "--username", USER]
    command += ["--password", PASSWORD, "--user-token", TOKEN, "--enable-legacy-api-token"]
    log = open(data / "label-studio.log", "w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if json.loads(response.read()).get("status") == "UP":
                    break
        except (OSError, ValueError):
            time.sleep(1)
        if process.poll() is not None:
            pytest.fail("Label Studio stopped: " + (data / "label-studio.log").read_text()[-3000:])
    else:
        process.kill()
        pytest.fail("Label Studio did not start: " + (data / "label-studio.log").read_text()[-3000:])
    try:
        yield LabelStudio(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def test_label_studio_pre_annotates_with_ner_and_trains_it(label_studio, tmp_path, monkeypatch):
    ls = label_studio
    project = ls.call("POST", "/api/projects", {"title": "ner loop", "label_config": CONFIG})["id"]
    ls.call("POST", f"/api/projects/{project}/import", [{"text": text} for text in TEXTS])
    monkeypatch.setenv("LABEL_STUDIO_URL", ls.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    args = ["--label-map", "PERSON=PER", "--training-dir", str(tmp_path / "rounds"), "--train-epochs", "3"]
    with service(LEGACY_RUN, *args, "--min-annotations", "1000") as backend:
        ml = ls.call("POST", "/api/ml", {"url": backend, "project": project, "title": "ner"})
        first_version = LEGACY_RUN.name
        assert ls.call("GET", f"/api/ml/{ml['id']}")["model_version"] == first_version
        ls.call(
            "POST",
            f"/api/dm/actions?id=retrieve_tasks_predictions&project={project}",
            {"selectedItems": {"all": True, "excluded": []}},
        )
        tasks = wait_until(
            lambda: [t for t in ls.tasks(project) if t.get("predictions")] or None, 120, "predictions"
        )
        by_text = {t["data"]["text"]: t for t in ls.tasks(project)}
        assert len(by_text) == len(TEXTS) and len(tasks) == len(TEXTS)
        prediction = by_text[TEXTS[0]]["predictions"][0]
        assert prediction["model_version"] == first_version and 0.0 <= prediction["score"] <= 1.0
        labels = {r["value"]["labels"][0] for r in prediction["result"]}
        assert labels and labels <= {"PERSON", "LOC", "ORG"}
        assert all(0.0 <= r["score"] <= 1.0 for r in prediction["result"])
        if shutil.which("chromium") and shutil.which("chromedriver"):
            screenshot(ls.url, project, by_text[TEXTS[0]]["id"], tmp_path / "task.png")

        # A person annotates every task: people, and a new type, DATE, on "Rome" (a toy change to learn).
        for text, task in by_text.items():
            result = []
            for word, label in (("Anna Smith", "PERSON"), ("Smith", "PERSON"), ("Rome", "DATE")):
                start = text.find(word)
                if start >= 0 and not any(r["value"]["start"] <= start < r["value"]["end"] for r in result):
                    value = {"start": start, "end": start + len(word), "text": word, "labels": [label]}
                    result.append({"from_name": "label", "to_name": "text", "type": "labels", "value": value})
            ls.call("POST", f"/api/tasks/{task['id']}/annotations", {"result": result})
        ls.call("POST", f"/api/ml/{ml['id']}/train", {})

        def trained() -> dict | None:
            with urllib.request.urlopen(f"{backend}/health", timeout=5) as response:
                health = json.loads(response.read())
            status = health["training"]["status"]
            assert status != "failed", health
            return health if status == "trained" else None

        health = wait_until(trained, 300, "the fine-tuning round")
        new_version = health["model_version"]
        assert new_version != first_version and health["training"]["annotated_tasks"] == len(TEXTS)
        run = json.loads((Path(health["training"]["run"]) / "config.json").read_text())
        assert {"B-DATE", "B-PER", "B-LOC"} <= set(run["labels"])
        # Asked for predictions again, Label Studio learns the new version (its setup) and gets them.
        ls.call(
            "POST",
            f"/api/dm/actions?id=retrieve_tasks_predictions&project={project}",
            {"selectedItems": {"all": True, "excluded": []}},
        )

        def versions() -> set[str] | None:
            found = {p["model_version"] for t in ls.tasks(project) for p in t["predictions"]}
            return found if new_version in found else None

        assert wait_until(versions, 120, "predictions of the new version") == {first_version, new_version}
        assert ls.call("GET", f"/api/ml/{ml['id']}")["model_version"] == new_version


def screenshot(url: str, project: int, task: int, path: Path) -> None:
    """Log in to Label Studio in headless Chromium and photograph a pre-annotated task."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(f"{url}/user/login/")
        driver.find_element(By.NAME, "email").send_keys(USER)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
        WebDriverWait(driver, 60).until(lambda d: "/user/login" not in d.current_url)
        driver.get(f"{url}/projects/{project}/data?task={task}")
        WebDriverWait(driver, 90).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[class*='htx-highlight']"))
        )
        time.sleep(2)
        driver.save_screenshot(str(path))
        target = os.environ.get("NER_SCREENSHOT_DIR")
        if target:
            shutil.copy(path, Path(target) / "label-studio-task.png")
    finally:
        driver.quit()
