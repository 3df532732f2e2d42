"""The portal's texts: gettext catalogs (`locale/<lang>/LC_MESSAGES/messages.po`), compiled in memory at start.

Danish is the default; English is switchable. Message ids are English; both catalogs fill in every one (a test
checks), so an English text can be edited in its catalog without changing the code.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("da", "en")
"""The languages offered, the default first."""
DEFAULT = LANGUAGES[0]
NAMES = {"da": "Dansk", "en": "English"}
"""Each language by its own name, as a language switch shows it (the same in every language)."""
_current: ContextVar[str] = ContextVar("portal_language", default=DEFAULT)


class Catalogs:
    """The compiled catalog of each language; `gettext` answers in the language of the current request."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._translations = {
            language: _compile(locale_dir / language / "LC_MESSAGES" / "messages.po") for language in LANGUAGES
        }

    def use(self, language: str) -> None:
        """Answer in `language` for the rest of this request (its context)."""
        _current.set(language if language in self._translations else DEFAULT)

    @property
    def language(self) -> str:
        return _current.get()

    def gettext(self, message: str) -> str:
        return self._translations[_current.get()].gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations[_current.get()].ngettext(singular, plural, n)


def _compile(po_file: Path) -> gettext.GNUTranslations:
    with po_file.open("rb") as source:
        catalog = read_po(source)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
