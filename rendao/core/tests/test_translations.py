"""The zh-Hans catalogue: complete, compiled, faithful to its placeholders, and used.

The interface is written in English and shown in Simplified Chinese by default.
These tests need no gettext tools: they read the .po with a small parser, the
.mo with `struct`, and find the marked strings with `ast` and Django's own
template-to-gettext converter (the one `makemessages` uses).

When a test here fails because of new strings, refresh the catalogue with

    python manage.py makemessages -l zh_Hans --no-location --no-obsolete \\
        -i ".venv/*" -i "bench/*" -i "var/*"

translate the new entries, and compile with

    python manage.py compilemessages -l zh_Hans -i ".venv/*"
"""

from __future__ import annotations

import ast
import io
import re
import struct
import tokenize
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

import rendao

SOURCE_ROOT = Path(rendao.__file__).resolve().parent
LOCALE = translation.to_locale(settings.LANGUAGE_CODE)  # "zh-hans" -> "zh_Hans"
MESSAGES = Path(settings.LOCALE_PATHS[0]) / LOCALE / "LC_MESSAGES"
PO_FILE = MESSAGES / "django.po"
MO_FILE = MESSAGES / "django.mo"

# A message is identified as gettext does: its context (if any) and its msgid.
Key = tuple[str | None, str]

# printf-style placeholders (%(name)s, %s, %d, %%), which gettext flags "python-format",
# and str.format-style ones ({name}, {0}).
PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
BRACES = re.compile(r"\{[^{}\s]*\}")
MARKUP = re.compile(r"</?[A-Za-z][^>]*>|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")


@dataclass(frozen=True)
class Entry:
    line: int
    flags: frozenset[str]
    msgctxt: str | None
    msgid: str
    msgid_plural: str | None
    msgstrs: tuple[str, ...]

    @property
    def key(self) -> Key:
        return (self.msgctxt, self.msgid)

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.msgid,) if self.msgid_plural is None else (self.msgid, self.msgid_plural)

    def __str__(self) -> str:
        return f"django.po:{self.line} {self.msgid!r}"


def _unquote(text: str) -> str:
    """A PO string literal ("...", with C escapes) as the text it stands for."""
    value = ast.literal_eval(text.strip())
    assert isinstance(value, str), text
    return value


def parse_po(text: str) -> list[Entry]:
    """Every entry of a .po file, the header included; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags: set[str] = set()
    start = 0
    current: str | None = None

    def flush() -> None:
        nonlocal fields, flags, current
        if "msgid" in fields:
            strs = sorted((k for k in fields if k.startswith("msgstr")), key=lambda k: (len(k), k))
            entries.append(
                Entry(
                    line=start,
                    flags=frozenset(flags),
                    msgctxt=fields.get("msgctxt"),
                    msgid=fields["msgid"],
                    msgid_plural=fields.get("msgid_plural"),
                    msgstrs=tuple(fields[k] for k in strs),
                )
            )
        fields, flags, current = {}, set(), None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            flush()
        elif line.startswith("#"):
            if "msgid" in fields:
                flush()
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith('"'):
            assert current is not None, f"django.po:{number}: a continuation line with nothing to continue"
            fields[current] += _unquote(line)
        else:
            keyword, _space, literal = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and "msgid" in fields:
                flush()
            if keyword == "msgid":
                start = number
            if keyword in fields:
                raise AssertionError(f"django.po:{number}: {keyword} twice in one entry")
            current = keyword
            fields[keyword] = _unquote(literal)
    flush()
    return entries


@cache
def po_entries() -> tuple[Entry, ...]:
    return tuple(parse_po(PO_FILE.read_text(encoding="utf-8")))


def messages() -> list[Entry]:
    """The translatable entries: everything but the header."""
    return [e for e in po_entries() if e.msgid != ""]


def read_mo(data: bytes) -> dict[Key, tuple[str, ...]]:
    """A compiled catalogue as {(context, msgid): translations}, read as GNU gettext lays it out."""
    (magic,) = struct.unpack("<I", data[:4])
    order = {0x950412DE: "<", 0xDE120495: ">"}[magic]
    _revision, count, originals_at, translations_at = struct.unpack(order + "4I", data[4:20])

    def string(table: int, index: int) -> str:
        length, offset = struct.unpack(order + "2I", data[table + 8 * index : table + 8 * index + 8])
        return data[offset : offset + length].decode("utf-8")

    catalogue: dict[Key, tuple[str, ...]] = {}
    for index in range(count):
        original = string(originals_at, index)
        context, eot, msgid = original.rpartition("\x04")
        msgid = msgid.split("\x00")[0]
        catalogue[(context if eot else None, msgid)] = tuple(string(translations_at, index).split("\x00"))
    return catalogue


# --- Finding the strings marked for translation, as makemessages does -------

# gettext-family names and which positional arguments are (context, msgid).
GETTEXT_CALLS: dict[str, tuple[int | None, int]] = {
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}


def _source_files(*suffixes: str) -> Iterator[Path]:
    for path in sorted(SOURCE_ROOT.rglob("*")):
        if path.suffix in suffixes and path.is_file() and "__pycache__" not in path.parts:
            yield path


def python_messages(source: str) -> Iterator[Key]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name not in GETTEXT_CALLS:
            continue
        context_at, msgid_at = GETTEXT_CALLS[name]
        args = node.args
        if len(args) <= msgid_at:
            continue
        msgid = args[msgid_at]
        context = args[context_at] if context_at is not None else None
        if not (isinstance(msgid, ast.Constant) and isinstance(msgid.value, str)):
            continue
        if context is None:
            yield (None, msgid.value)
        elif isinstance(context, ast.Constant) and isinstance(context.value, str):
            yield (context.value, msgid.value)


def template_messages(source: str) -> Iterator[Key]:
    """Django turns a template into gettext calls among filler; read those calls' literals."""
    converted = "\n".join(line.lstrip() for line in templatize(source).splitlines())
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(converted).readline)
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
    ]
    for i, token in enumerate(tokens[:-2]):
        if token.type != tokenize.NAME or token.string not in GETTEXT_CALLS or tokens[i + 1].string != "(":
            continue
        literals: list[str] = []
        for t in tokens[i + 2 :]:
            if t.type == tokenize.STRING:
                literals.append(ast.literal_eval(t.string))
            elif t.string != ",":
                break
        context_at, msgid_at = GETTEXT_CALLS[token.string]
        if len(literals) > msgid_at:
            yield (literals[context_at] if context_at is not None else None, literals[msgid_at])


def marked_messages() -> dict[Key, str]:
    """Every string marked for translation in the project, with where it was found first."""
    found: dict[Key, str] = {}
    for path in _source_files(".py"):
        for key in python_messages(path.read_text(encoding="utf-8")):
            found.setdefault(key, str(path.relative_to(SOURCE_ROOT.parent)))
    for path in _source_files(".html", ".txt"):
        for key in template_messages(path.read_text(encoding="utf-8")):
            found.setdefault(key, str(path.relative_to(SOURCE_ROOT.parent)))
    return found


# --- The catalogue is complete ----------------------------------------------


def test_the_default_language_has_a_catalogue_where_django_looks_for_it() -> None:
    assert LOCALE == "zh_Hans"
    assert PO_FILE.is_file()
    assert MO_FILE.is_file()


def test_the_catalogue_is_not_empty_and_declares_one_plural_form() -> None:
    header = [e for e in po_entries() if e.msgid == ""]
    assert len(header) == 1
    assert "Plural-Forms: nplurals=1; plural=0;" in header[0].msgstrs[0]
    assert len(messages()) > 100


def test_every_entry_is_translated() -> None:
    untranslated = [str(e) for e in messages() if not e.msgstrs or not all(s.strip() for s in e.msgstrs)]
    assert untranslated == []


def test_no_entry_is_fuzzy() -> None:
    assert [str(e) for e in po_entries() if "fuzzy" in e.flags] == []


def test_plural_entries_have_exactly_the_one_chinese_form() -> None:
    plural = [e for e in messages() if e.msgid_plural is not None]
    assert [str(e) for e in plural if len(e.msgstrs) != 1] == []


def test_every_string_marked_in_the_code_is_in_the_catalogue() -> None:
    catalogued = {e.key for e in messages()}
    missing = sorted(
        f"{where}: {msgid!r}"
        for (ctx, msgid), where in marked_messages().items()
        if (ctx, msgid) not in catalogued
    )
    assert missing == [], "run makemessages and translate the new entries (see this module's docstring)"


# --- The compiled catalogue matches the source catalogue ---------------------


def test_the_compiled_catalogue_holds_exactly_the_translations_of_the_po_file() -> None:
    compiled = read_mo(MO_FILE.read_bytes())
    compiled.pop((None, ""), None)  # the header: makemessages rewrites its dates on every run
    expected = {e.key: e.msgstrs for e in messages()}
    assert set(compiled) == set(expected), "run compilemessages (see this module's docstring)"
    stale = sorted(repr(key[1]) for key in expected if compiled[key] != expected[key])
    assert stale == [], "run compilemessages (see this module's docstring)"


# --- Translations keep what the code relies on -------------------------------


def placeholders(entry: Entry, text: str) -> set[str]:
    found = set(BRACES.findall(text))
    if "python-format" in entry.flags:
        found.update(PRINTF.findall(text))
    return found


def test_every_placeholder_of_a_message_appears_in_its_translation() -> None:
    problems = []
    for e in messages():
        wanted = {p for source in e.sources for p in placeholders(e, source)}
        for msgstr in e.msgstrs:
            found = placeholders(e, msgstr)
            if wanted - found:
                problems.append(f"{e}: missing {sorted(wanted - found)}")
            if found - wanted:
                problems.append(f"{e}: unknown {sorted(found - wanted)}")
    assert problems == []


def test_html_tags_and_entities_survive_translation() -> None:
    problems = [
        str(e)
        for e in messages()
        for msgstr in e.msgstrs
        if Counter(MARKUP.findall(e.msgid)) != Counter(MARKUP.findall(msgstr))
    ]
    assert problems == []


def test_translations_begin_and_end_with_the_same_line_breaks_as_their_messages() -> None:
    problems = [
        str(e)
        for e in messages()
        for msgstr in e.msgstrs
        if (e.msgid.startswith("\n"), e.msgid.endswith("\n"))
        != (msgstr.startswith("\n"), msgstr.endswith("\n"))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("msgid", "chinese"),
    [
        ("Red Cross", "红十字会"),
        ("Sign in", "登录"),
        ("Sign out", "退出登录"),
        ("Not yet online", "暂未上线"),
        ("Humanity · Fraternity · Dedication", "人道 · 博爱 · 奉献"),
    ],
)
def test_django_finds_the_chinese_translation(msgid: str, chinese: str) -> None:
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese
    with translation.override("en"):
        assert translation.gettext(msgid) == msgid


# --- The site speaks Chinese by default --------------------------------------


@pytest.mark.django_db
def test_the_home_page_is_in_chinese_by_default() -> None:
    html = Client().get(reverse("core:home")).content.decode()
    assert "红十字会" in html
    assert "暂未上线" in html
    assert "Not yet online" not in html


@pytest.mark.django_db
def test_the_home_page_is_in_english_for_a_browser_that_asks_for_english() -> None:
    html = Client(headers={"accept-language": "en"}).get(reverse("core:home")).content.decode()
    assert "Not yet online" in html
    assert "红十字会" not in html
