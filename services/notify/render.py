"""Messages from notices: one Jinja2 template per notice and language, `templates/<language>/<template>.j2`.

A template renders to its subject line, a blank line, then the body, like a commit message. Undefined variables
are errors, and `tests/notify/unit/test_templates.py` renders every notice in every language, so a missing or
broken template fails a test rather than a delivery.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"


class TemplateError(ValueError):
    """A template does not render to a subject line, a blank line and a body."""


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


class Renderer:
    """Renders plain-text messages; the portal URL is the one global every template may use."""

    def __init__(self, portal_url: str) -> None:
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            undefined=StrictUndefined,
            autoescape=False,  # plain text: mails and letters, never HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # the templates ship with the code: no stat of the file on every render
        )
        self._env.globals["portal_url"] = portal_url.rstrip("/")

    def render(self, template: str, language: str, facts: Mapping[str, Any]) -> Message:
        text = self._env.get_template(f"{language}/{template}.j2").render(facts)
        subject, blank, body = (text.split("\n", 2) + ["", ""])[:3]
        if not subject.strip() or blank.strip() or not body.strip():
            raise TemplateError(f"{language}/{template}: expected a subject line, a blank line and a body")
        return Message(subject.strip(), body.strip() + "\n")


def template_names(language: str) -> set[str]:
    """The templates present for a language, without the shared `_*.j2` macro files."""
    return {path.stem for path in (TEMPLATES / language).glob("*.j2") if not path.name.startswith("_")}
