"""doccano's auto-labeling against `ner serve`: the request body, mapping template and label mapping that
docs/annotation-loop.md gives, run through doccano's own auto-labeling code (`auto-labeling-pipeline`,
in the annotation tools' environment), give the service's entities as doccano's spans."""

import json
import re
import subprocess
import urllib.request

import pytest

from tests.conftest import LEGACY_RUN, ROOT, TOOLS_VENV, require_tool, service

pytestmark = pytest.mark.e2e

PYTHON = TOOLS_VENV / "bin" / "python"
PIPELINE = next(TOOLS_VENV.glob("lib/python3*/site-packages/auto_labeling_pipeline"), None)
require_tool(PIPELINE or TOOLS_VENV / "lib" / "auto_labeling_pipeline")

MAPPING = {"PER": "PERSON", "LOC": "LOC", "ORG": "ORG", "MISC": "MISC"}
TEXTS = ["Anna Smith lives in Rome near Acme Corp.", "Nothing to see here.", "Acme Corp hires Smith in ROME."]
SCRIPT = """
import json, sys
from auto_labeling_pipeline.labels import SequenceLabels
from auto_labeling_pipeline.mappings import MappingTemplate
from auto_labeling_pipeline.models import CustomRESTRequestModel
from auto_labeling_pipeline.pipeline import pipeline
from auto_labeling_pipeline.postprocessing import PostProcessor

url, body, template, mapping, texts = json.loads(sys.stdin.read())
found = []
for text in texts:
    request = CustomRESTRequestModel(url=url, method="POST", params={}, headers={}, body=json.loads(body))
    labels = pipeline(text, request, MappingTemplate(SequenceLabels, template), PostProcessor(mapping))
    found.append(labels.dict())
print(json.dumps(found))
"""


def documented_settings() -> tuple[str, str]:
    """The request body and mapping template of the docs page's doccano section."""
    page = (ROOT / "docs" / "annotation-loop.md").read_text()
    section = page[page.index("## doccano's auto-labeling") :]
    body = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    template = re.search(r"```jinja\n(.*?)```", section, re.S).group(1)
    return "\n".join(line.strip() for line in body.splitlines()), template


def test_doccanos_own_pipeline_reads_the_services_entities():
    body, template = documented_settings()
    with service(LEGACY_RUN) as url:
        payload = json.dumps([f"{url}/v1/entities", body, template, MAPPING, TEXTS])
        done = subprocess.run([PYTHON, "-c", SCRIPT], input=payload, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        expected = []
        for text in TEXTS:
            request = urllib.request.Request(
                f"{url}/v1/entities",
                json.dumps({"text": text}).encode(),
                {"content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                entities = json.load(response)["entities"]
            expected.append(
                [
                    {"label": MAPPING[e["label"]], "start_offset": e["start"], "end_offset": e["end"]}
                    for e in entities
                ]
            )
    assert found == expected and any(found)
