"""Every text of the portal is in the message catalogs: none written into a template, each in Danish and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.portal.i18n import LANGUAGES, LOCALE_DIR, Catalogs

PORTAL = Path(__file__).resolve().parents[2] / "services" / "portal"
_METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
_OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> set[str]:
    found = extract_from_dir(
        str(PORTAL),
        method_map=_METHODS,
        options_map=_OPTIONS,
        keywords={"_": None, "gettext": None, "N_": None},
        directory_filter=lambda path: "node_modules" not in path,
    )
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _catalog(language: str) -> dict[str, str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return {m.id: m.string for m in read_po(source) if m.id and isinstance(m.id, str)}


def test_every_text_of_the_pages_has_a_danish_translation() -> None:
    danish = _catalog("da")
    missing = sorted(message for message in _extracted() if not danish.get(message))
    assert missing == [], "run pybabel extract/update (services/portal/babel.cfg) and translate these"


def test_every_text_of_the_pages_has_its_english_entry_filled() -> None:
    english = _catalog("en")
    assert sorted(message for message in _extracted() if not english.get(message)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_keeps_texts_the_pages_no_longer_use(language: str) -> None:
    assert sorted(set(_catalog(language)) - _extracted()) == []


def test_templates_write_no_text_of_their_own() -> None:
    """Outside `{{ … }}` / `{% … %}` and tags, a template holds only spaces and punctuation."""
    for template in (PORTAL / "templates").glob("*.html"):
        source = template.read_text()
        bare = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", " ", source, flags=re.S)
        bare = re.sub(r"<[^>]*>", " ", bare)
        bare = re.sub(r"&[a-z]+;", " ", bare)
        words = re.findall(r"[^\W\d_]{2,}", bare)
        assert words == [], f"{template.name} writes {words}: put them in the catalogs"


def test_catalogs_compile_and_answer_in_the_chosen_language() -> None:
    catalogs = Catalogs()
    catalogs.use("da")
    assert catalogs.gettext("Log out") == "Log af"
    catalogs.use("en")
    assert catalogs.gettext("Log out") == "Log out"
    catalogs.use("xx")
    assert catalogs.gettext("Log out") == "Log af", "an unknown language falls back to Danish"


def test_a_compiled_catalog_is_not_needed_on_disk() -> None:
    assert not list(LOCALE_DIR.glob("*/LC_MESSAGES/*.mo")), "the .po files are compiled at start, in memory"
