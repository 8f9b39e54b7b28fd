"""The service's OpenAPI document tells the truth: a schema-driven fuzzer finds no request the schema
allows that the service refuses, no answer that breaks the schema, and no 5xx; and the service runs
in several worker processes."""

import concurrent.futures
import json
import urllib.request

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from ner.serve.app import Limits, create_app
from tests.conftest import LEGACY_RUN, service

RUN = LEGACY_RUN
APP = create_app(RUN, Limits(max_chars=300, max_texts=4))
# Label Studio's ML backend routes take Label Studio's bodies (a labeling config must be XML, a task
# must hold the config's text field) and start real training; tests/serve/test_label_studio_backend.py
# tests them.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(
    path_regex="^/(health|setup|predict|webhook|train)$"
)
# A request over the size limits breaks the schema (maxLength, maxItems) and is refused with 413.
rejection = schema.config.checks.negative_data_rejection
rejection.expected_statuses = [*rejection.expected_statuses, "413"]


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_fuzzer_finds_no_request_or_answer_that_breaks_the_schema(case):
    case.call_and_validate()


def resolve(spec: dict, node: dict) -> dict:
    return spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node


def test_the_two_request_shapes_and_every_answer_are_in_the_schema():
    with TestClient(APP) as client:
        spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/entities"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    shapes = [resolve(spec, s) for s in body["anyOf"]]
    assert [s["required"] for s in shapes] == [["text"], ["texts"]]
    assert all(s["additionalProperties"] is False for s in shapes)
    assert (
        shapes[0]["properties"]["text"]["maxLength"] == 300
        and shapes[1]["properties"]["texts"]["maxItems"] == 4
    )
    assert shapes[0]["properties"]["nbest"] == {
        "default": 0,
        "description": "k best tag sequences per sentence",
        "maximum": 10,
        "minimum": 0,
        "title": "Nbest",
        "type": "integer",
    }
    answers = operation["responses"]
    assert {"200", "400", "413", "422"} <= set(answers)
    ok = [resolve(spec, s) for s in answers["200"]["content"]["application/json"]["schema"]["anyOf"]]
    assert ok[0]["required"] == ["text", "entities"] and ok[1]["required"] == ["documents"]
    entity = resolve(spec, ok[0]["properties"]["entities"]["items"])
    assert set(entity["required"]) == {"text", "label", "start", "end", "score"}
    assert resolve(spec, answers["413"]["content"]["application/json"]["schema"])["required"] == ["error"]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/v1/entities", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.mark.e2e
def test_two_worker_processes_answer_as_one_process_does():
    texts = [f"Anna Smith number {i} visits Acme Corp in Rome." for i in range(24)]
    with TestClient(create_app(RUN)) as client:
        expected = [client.post("/v1/entities", json={"text": t}).json() for t in texts]
    with service(RUN, "--workers", "2") as url:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda t: post(url, {"text": t}), texts))
        assert answers == expected
        assert post(url, {"texts": texts[:2], "nbest": 2})["documents"][0]["nbest"]
