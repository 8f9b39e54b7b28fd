"""The service's page: a text box, and the entities highlighted in displaCy's markup by the page's own
script from the JSON of POST /v1/entities (the probability on hover)."""

from __future__ import annotations

import json

from ner.inference.render import PAGE_END, colours, page_start

FORM = """
<form id="form">
<textarea id="text" name="text" rows="6" style="width: 100%" maxlength="{max_chars}"
 placeholder="Type or paste text, e.g. Angela Merkel flew to Paris to meet Emmanuel Macron."></textarea>
<p><button id="submit" type="submit">Find entities</button> <span id="status"></span></p>
</form>
<div id="result" class="entities"></div>
<script>
const COLOURS = {colours};
const form = document.getElementById("form");
const status = document.getElementById("status");
const result = document.getElementById("result");
function render(doc) {{
  result.replaceChildren();
  let position = 0;
  for (const entity of doc.entities) {{
    result.append(document.createTextNode(doc.text.slice(position, entity.start)));
    const mark = document.createElement("mark");
    mark.className = "entity";
    mark.dataset.label = entity.label;
    mark.style.background = COLOURS[entity.label] || "#ddd";
    mark.title = entity.label + " " + entity.score.toFixed(3);
    mark.append(document.createTextNode(entity.text));
    const label = document.createElement("span");
    label.textContent = entity.label;
    mark.append(label);
    result.append(mark);
    position = entity.end;
  }}
  result.append(document.createTextNode(doc.text.slice(position)));
  status.textContent = doc.entities.length + (doc.entities.length === 1 ? " entity" : " entities");
}}
form.addEventListener("submit", async (event) => {{
  event.preventDefault();
  status.textContent = "tagging...";
  const response = await fetch("/v1/entities", {{
    method: "POST",
    headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{text: document.getElementById("text").value}}),
  }});
  const body = await response.json();
  if (response.ok) {{ render(body); }} else {{ status.textContent = body.error; }}
}});
</script>
"""


def page(entity_types: list[str], max_chars: int) -> str:
    """The whole page, self-contained."""
    palette = colours(entity_types)
    script_colours = json.dumps(palette).replace("</", "<\\/")
    return (
        page_start("Named entities", palette)
        + FORM.format(colours=script_colours, max_chars=max_chars)
        + PAGE_END
    )
