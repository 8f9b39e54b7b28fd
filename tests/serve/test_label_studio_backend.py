"""Label Studio's ML backend protocol on the service: health, setup, predictions shaped as Label Studio
reads them (names from the labeling config, labels mapped, scores), bad requests refused with the
problem, and fine-tuning rounds that swap the model or leave it in place and say why."""

import json
import time

import pytest
from fastapi.testclient import TestClient

from ner.serve.app import BackendSettings, Limits, create_app
from ner.serve.label_studio import LabelingConfigError, LabelMap, read_labeling_config
from tests.conftest import LEGACY_RUN

CONFIG = """<View>
  <Labels name="ner" toName="body">
    <Label value="PERSON" background="red"/><Label value="LOC"/><Label value="ORG"/><Label value="DATE"/>
  </Labels>
  <Text name="body" value="$content"/>
</View>"""
TEXT = "Anna Smith lives in Rome near Acme Corp."


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = BackendSettings(
        label_map={"PERSON": "PER"}, work_dir=tmp_path_factory.mktemp("rounds"), epochs=2, minutes=2
    )
    with TestClient(create_app(LEGACY_RUN, Limits(), settings)) as client:
        yield client


def wait_for_round(client, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        training = client.get("/health").json()["training"]
        if training["status"] != "running":
            return training
        time.sleep(0.5)
    pytest.fail("the fine-tuning round did not end")


def test_the_labeling_config_names_the_text_field_and_the_labels():
    names, labels = read_labeling_config(CONFIG, LabelMap({"PERSON": "PER"}))
    assert (names.from_name, names.to_name, names.text_field) == ("ner", "body", "content")
    assert labels == ["PERSON", "LOC", "ORG", "DATE"] and names.labels["PER"] == "PERSON"
    for bad, problem in (("<View", "not XML"), ("<View><Text name='t' value='$x'/></View>", "<Labels")):
        with pytest.raises(LabelingConfigError, match=problem):
            read_labeling_config(bad, LabelMap({}))


def test_health_and_setup_answer_the_model_version(client):
    health = client.get("/health").json()
    assert health["status"] == "UP" and health["model_version"] == LEGACY_RUN.name
    answer = client.post("/setup", json={"project": "3.1700000000", "schema": CONFIG, "hostname": "x"})
    assert answer.status_code == 200 and answer.json() == {"model_version": LEGACY_RUN.name}
    answer = client.post("/setup", json={"project": "3.1700000000", "schema": "<View>"})
    assert answer.status_code == 422 and "not XML" in answer.json()["error"]


def test_predictions_follow_the_tasks_and_the_projects_names(client):
    tasks = [{"id": 7, "data": {"content": TEXT}}, {"id": 8, "data": {"content": ""}}]
    body = client.post("/predict", json={"tasks": tasks, "label_config": CONFIG, "project": "3.1"}).json()
    assert len(body["results"]) == 2 and body["model_version"] == LEGACY_RUN.name
    first = body["results"][0]
    assert first["result"] and 0.0 <= first["score"] <= 1.0
    for result in first["result"]:
        value = result["value"]
        assert (result["from_name"], result["to_name"], result["type"]) == ("ner", "body", "labels")
        assert TEXT[value["start"] : value["end"]] == value["text"] and 0.0 <= result["score"] <= 1.0
        assert value["labels"][0] in {"PERSON", "LOC", "ORG"}  # MISC is not the project's, PER is PERSON
    assert body["results"][1]["result"] == []
    # The project's config from setup serves when a request has none.
    again = client.post("/predict", json={"tasks": tasks[:1], "project": "3.1700000000"}).json()
    assert again["results"][0]["result"] == first["result"]


def test_bad_backend_requests_are_refused_with_the_problem(client):
    answer = client.post("/predict", json={"tasks": [{"data": {"text": TEXT}}], "label_config": CONFIG})
    assert answer.status_code == 422 and "tasks[0].data.content" in answer.json()["error"]
    assert client.post("/predict", json={"label_config": CONFIG}).status_code == 422
    answer = client.post("/webhook", json={"action": "START_TRAINING"})
    assert answer.status_code == 422 and "project" in answer.json()["error"]
    assert client.post("/webhook", json={"action": "PROJECT_UPDATED"}).json()["status"] == "ignored"
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_failed_round_is_reported_and_the_model_stays(client, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    answer = client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 99}})
    assert answer.json()["status"] == "training started"
    training = wait_for_round(client)
    assert training["status"] == "failed" and "LABEL_STUDIO_URL" in training["error"]
    assert client.get("/health").json()["model_version"] == LEGACY_RUN.name


def test_a_round_from_inline_annotations_swaps_in_a_new_version(client, tmp_path):
    start = TEXT.index("Rome")
    annotation = {
        "result": [
            {
                "from_name": "ner",
                "to_name": "body",
                "type": "labels",
                "value": {"start": 0, "end": 10, "labels": ["PERSON"]},
            },
            {
                "from_name": "ner",
                "to_name": "body",
                "type": "labels",
                "value": {"start": start, "end": start + 4, "labels": ["DATE"]},
            },
        ]
    }
    tasks = [{"id": i, "data": {"content": TEXT}, "annotations": [annotation]} for i in range(6)]
    answer = client.post(
        "/train", json={"annotations": tasks, "label_config": CONFIG, "project": "3.1700000000"}
    )
    assert answer.status_code == 200
    training = wait_for_round(client)
    assert training["status"] == "trained", training
    version = client.get("/health").json()["model_version"]
    assert version == training["model_version"] != LEGACY_RUN.name
    run = json.loads(open(f"{training['run']}/config.json").read())
    assert "B-DATE" in run["labels"] and "B-PER" in run["labels"]  # the new type, and the old ones kept
    body = client.post("/predict", json={"tasks": tasks[:1], "label_config": CONFIG}).json()
    assert body["model_version"] == version and body["results"][0]["model_version"] == version
