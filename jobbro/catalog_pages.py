"""`GET /asyncapi.json` and `GET /asyncapi`: the AsyncAPI document of the topics a service produces, as JSON and as
a page rendered here from that document, so an integrator reads the catalog from the service itself (no CDN, no
script: the page is the document's text, escaped)."""

from __future__ import annotations

import json
from functools import cache
from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from contracts.asyncapi import HEADERS, document
from contracts.catalog import TOPICS
from contracts.schema import resolve

_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_STYLE = """body{font:16px/1.5 system-ui,sans-serif;max-width:70rem;margin:auto;padding:1rem;color:#1a1a1a}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;vertical-align:top}code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;
padding:.5rem;overflow-x:auto}section{border-top:2px solid #333;margin-top:2rem}"""


def install(app: FastAPI, service: str) -> None:
    """Serve the document of `service`'s topics, if it produces any."""
    if not any(topic.owner == service for topic in TOPICS):
        return

    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(produced_by(service))

    async def asyncapi_html() -> HTMLResponse:
        return HTMLResponse(_page(service), headers={"Content-Security-Policy": _CSP})

    app.add_api_route("/asyncapi.json", asyncapi_json, include_in_schema=False)
    app.add_api_route("/asyncapi", asyncapi_html, include_in_schema=False)


@cache
def produced_by(service: str) -> dict[str, Any]:
    """The AsyncAPI document of the topics `service` produces."""
    return document(topic for topic in TOPICS if topic.owner == service)


@cache
def _page(service: str) -> str:
    return render(produced_by(service), f"Jobbro events produced by {service}")


def render(doc: dict[str, Any], title: str) -> str:
    """An AsyncAPI 3.0 document as one HTML page: servers, record headers, then each channel and its messages."""
    parts = [
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>',
        f'<meta name="viewport" content="width=device-width"><style>{_STYLE}</style></head><body><main>',
        f"<h1>{escape(title)}</h1><p>AsyncAPI {escape(doc['asyncapi'])}, catalog {escape(doc['info']['version'])}"
        ' (<a href="asyncapi.json">the document</a>).</p>',
        f"<p>{escape(doc['info']['description'])}</p>",
        _servers(doc),
        _headers(doc),
        *(_channel(doc, channel) for channel in doc["channels"].values()),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _servers(doc: dict[str, Any]) -> str:
    rows = []
    for name, server in doc.get("servers", {}).items():
        security = [resolve(doc, ref["$ref"]) for ref in server.get("security", [])]
        auth = "; ".join(f"{s['type']}: {s.get('description', '')}" for s in security if s) or "none"
        rows.append(_row(name, server["host"], server["protocol"], server.get("description", ""), auth))
    return "<h2>Servers</h2>" + _table(("name", "host", "protocol", "description", "security"), rows)


def _headers(doc: dict[str, Any]) -> str:
    headers = doc["components"]["schemas"][HEADERS]
    required = set(headers.get("required", ()))
    rows = [
        _row(name, "yes" if name in required else "no", spec.get("description", spec.get("const", "")))
        for name, spec in headers["properties"].items()
    ]
    return (
        f"<h2>Headers of a record</h2><p>{escape(headers['description'])}</p>"
        f"{_table(('header', 'required', 'meaning'), rows)}"
    )


def _channel(doc: dict[str, Any], channel: dict[str, Any]) -> str:
    address = channel["address"]
    kafka = channel["bindings"]["kafka"]
    config = kafka.get("topicConfiguration", {})
    parts = [
        f'<section id="{escape(address)}"><h2><code>{escape(address)}</code></h2>',
        f"<p>{escape(channel.get('description', ''))}</p>",
        f"<p>Partitions: {kafka.get('partitions')}; retention: {config.get('retention.ms', 0) // 86_400_000} days;"
        f" consumers: {escape(', '.join(channel.get('x-consumers', ())) or 'none listed')}.</p>",
    ]
    for ref in channel["messages"].values():
        parts.append(_message(doc, resolve(doc, ref["$ref"])))
    parts.append("</section>")
    return "\n".join(parts)


def _message(doc: dict[str, Any], message: dict[str, Any]) -> str:
    payload = message["payload"]
    payload = resolve(doc, payload["$ref"]) if "$ref" in payload else payload  # a tombstone's payload is inline null
    required = set(payload.get("required", ()))
    personal = message.get("x-personal-data", {})
    rows = [
        _row(
            name,
            _type(doc, spec),
            "yes" if name in required else "no",
            personal.get(name, ""),
            spec.get("description", ""),
        )
        for name, spec in payload.get("properties", {}).items()
    ]
    examples = message.get("examples", [])
    example = json.dumps(examples[0], indent=2, ensure_ascii=False) if examples else ""
    return (
        f"<h3><code>{escape(message['name'])}</code> ({escape(message['title'])})</h3>"
        f"<p>{escape(message.get('description', ''))}</p>"
        f"<p>Key: {escape(message['bindings']['kafka']['key']['description'])}</p>"
        f"{_table(('field', 'type', 'required', 'personal data', 'meaning'), rows)}"
        f"<details><summary>An example record</summary><pre>{escape(example)}</pre></details>"
    )


def _type(doc: dict[str, Any], spec: dict[str, Any]) -> str:
    """A field's type in a few words: its JSON type and format, an enum's values, or the name of what it refers to."""
    if "$ref" in spec:
        target = resolve(doc, spec["$ref"])
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"{name}: one of {', '.join(map(str, target['enum']))}" if "enum" in target else name
    for union in ("anyOf", "oneOf"):
        if union in spec:
            return " or ".join(_type(doc, alternative) for alternative in spec[union])
    if spec.get("type") == "array":
        return f"array of {_type(doc, spec.get('items', {}))}"
    kind = spec.get("type", "any")
    return f"{kind} ({spec['format']})" if "format" in spec else str(kind)


def _row(*cells: Any) -> str:
    return "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells) + "</tr>"


def _table(head: tuple[str, ...], rows: list[str]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
