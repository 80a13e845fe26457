"""The Markdown extension `snippet_engine.extension`: everything a build needs, under MkDocs and Zensical.

mkdocs.yml lists the extension and registers the three fences with
superfences (`snippet`, `snippet-table`, `interpreters`). The fence functions
find this extension on the page's `Markdown` instance, and through it the
process's `Build`: the project, the prefetch of the whole site, and the memo
of fence HTML. A build begins when the pages or snippets changed since the
last page was rendered (every page of a `mkdocs serve` rebuild, or of a
long-lived Zensical process, checks), so both builders behave the same
without a plugin.

A failing snippet is logged as a warning naming the page, path:line and
interpreter (so `mkdocs build --strict` fails) and shown in a failure box;
with SNIPPET_STRICT=1 it raises the one exception superfences lets through.
Any other exception is turned into that one too: superfences would swallow it
and leave the fence as a raw code block.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.util import AtomicString
from pymdownx.inlinehilite import InlineHiliteException
from pymdownx.superfences import SuperFencesException

from .build import Build, fingerprint, shared_build
from .fences import FenceError, parse_body, parse_value
from .render import slug

# Under the "mkdocs" logger tree so `mkdocs build --strict` counts it.
logger = logging.getLogger("mkdocs.plugins.snippet_engine")
_ALLOWED_ATTRIBUTES = {"title"}


class SnippetExtension(Extension):  # type: ignore[misc]
    def __init__(self, build: Build | None = None, **kwargs: Any) -> None:
        self.config = {
            "source_url": ["", "the URL snippets/<path> is browsed at; each example links its file"]
        }
        super().__init__(**kwargs)
        # A test passes its own Build; a site uses the process's, from the environment.
        self.build: Build = build or shared_build()
        self.build.views.source_url = self.getConfig("source_url") or None
        self.prefixes: Counter[str] = Counter()  # per page: fences that used each id prefix
        self._settings: tuple[Markdown, str] | None = None

    def settings_of(self, md: Markdown) -> str:
        """fingerprint(md), hashed once per Markdown: its extensions are all registered by its first fence."""
        if self._settings is None or self._settings[0] is not md:
            self._settings = (md, fingerprint(md))
        return self._settings[1]

    def extendMarkdown(self, md: Markdown) -> None:
        md.registerExtension(self)
        self.build.begin_page()

    def id_prefix(self, name: str) -> str:
        """'memory/small_int_cache.pycon' -> 'memory-small-int-cache-pycon--' (then '-2--' if repeated).

        markdown-exec's default prefix counts conversions across the whole process,
        so one edit renumbered every later fence; a prefix from the snippet's own
        name is stable and unique per page.
        """
        base = slug(name) or "fence"
        self.prefixes[base] += 1
        count = self.prefixes[base]
        return f"{base}--" if count == 1 else f"{base}-{count}--"


def makeExtension(**kwargs: Any) -> SnippetExtension:
    return SnippetExtension(**kwargs)


def _extension(md: Markdown) -> SnippetExtension:
    for extension in md.registeredExtensions:
        if isinstance(extension, SnippetExtension):
            return extension
    raise SuperFencesException("snippet fences need `snippet_engine.extension` in markdown_extensions")


def validate(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: dict[str, Any], md: Markdown
) -> bool:
    unknown = set(inputs) - _ALLOWED_ATTRIBUTES
    if unknown:
        # Superfences swallows every other exception and leaves the block raw.
        raise SuperFencesException(f"{language} fence: unknown attribute(s) {sorted(unknown)}")
    options.update(inputs)
    return True


def _report(problems: list[str], build: Build, strict_error: type[Exception]) -> None:
    """Warn of the problems (MkDocs --strict counts the warnings); with strict settings, also raise.

    `strict_error`: the one exception the calling pymdownx hook lets through.
    """
    if problems:
        message = "\n".join(problems)
        logger.warning("snippet: %s", message)
        if build.settings.strict:
            raise strict_error(f"snippet: {message}")


def _format(kind: str, source: str, options: dict[str, Any], md: Markdown) -> str:
    extension = _extension(md)
    build = extension.build
    try:
        fence = parse_body(kind, source)
    except FenceError as error:
        raise SuperFencesException(f"{build.pages_with(kind, source)}: {error}") from None
    try:
        markdown, problems = build.views.render(fence, options.get("title"))
        _report(problems, build, SuperFencesException)
        name = fence.paths[0] if kind == "snippet" else kind
        return build.convert(kind, markdown, md, extension.id_prefix(name), extension.settings_of(md))
    except SuperFencesException:
        raise
    except Exception as error:
        # An engine bug must stop the build, not leave a raw code block.
        where = build.pages_with(kind, source)
        raise SuperFencesException(f"snippet engine failed in {where}: {error!r}") from error


def fence_format(
    source: str, language: str, css_class: str, options: dict[str, Any], md: Markdown, **kwargs: Any
) -> str:
    """superfences' `format` hook for every engine fence (mkdocs.yml); `language` is the fence's name.

    Module-level, so that Zensical can pickle the configuration that names it.
    """
    return _format(language, source, options, md)


def value_format(src: str, language: str, class_name: str, md: Markdown) -> Element:
    """pymdownx.inlinehilite's hook for `#!out path[:line] key [/regex/]`: one real value, as text."""
    extension = _extension(md)
    build = extension.build
    try:
        value = parse_value(src)
    except FenceError as error:
        raise InlineHiliteException(f"{build.pages_with_text(src)}: {error}") from None
    try:
        text, where, problems = build.views.value(value)
    except Exception as error:
        raise InlineHiliteException(f"snippet engine failed on `#!out {src}`: {error!r}") from error
    _report(problems, build, InlineHiliteException)
    element = Element("span", {"class": class_name, "title": f"from {where}"})
    # Atomic: no inline pattern runs on it (`__pycache__` is not emphasis, `<module>`
    # not markup), and the serializer escapes it. A value is always text.
    element.text = AtomicString(text)
    return element
