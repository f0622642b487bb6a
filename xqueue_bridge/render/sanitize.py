"""
Sanitization of grader HTML before a learner sees it (setting SANITIZE_FEEDBACK).

Capa only checks that a grader's ``msg`` parses and then renders it unescaped, so any script a grader
(or a learner's output echoed by a grader) puts there runs in the LMS page. Here the message goes
through an allow-list (nh3): the markup legacy graders send survives, everything that can run code does
not. The output depends only on the input, so shadow comparisons of feedback stay stable.
"""

from __future__ import annotations

import re

import nh3

# A str holds a surrogate code point only when it is unpaired (JSON "\\ud800" decodes to one), and such a
# string cannot be encoded at all: it becomes U+FFFD, as any HTML parser would make of it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# What xqueue-watcher's result templates use, plus the formatting, table and media markup course teams'
# own graders are known to send.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        # structure
        "div", "section", "header", "footer", "article", "aside", "p", "span", "br", "hr",
        "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "details", "summary", "figure", "figcaption",
        # lists
        "ul", "ol", "li", "dl", "dt", "dd",
        # code and text
        "pre", "code", "kbd", "samp", "var", "tt", "b", "i", "em", "strong", "u", "s", "small", "sub", "sup",
        "mark", "del", "ins", "abbr", "cite", "q", "wbr",
        # tables
        "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
        # links and media
        "a", "img", "audio", "video", "source",
    }
)  # fmt: skip

# Removed together with their content: code, styles and embedded documents or plug-ins.
REMOVED_WITH_CONTENT: frozenset[str] = frozenset(
    {"script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet",
     "svg", "math", "textarea", "select", "button", "form", "title", "xmp", "noembed", "noframes"}
)  # fmt: skip

GENERIC_ATTRIBUTES: frozenset[str] = frozenset({"class", "title", "lang", "dir"})

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(GENERIC_ATTRIBUTES),
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "audio": {"src", "controls", "loop", "muted", "preload"},
    "video": {"src", "controls", "loop", "muted", "preload", "width", "height", "poster"},
    "source": {"src", "type"},
    "ol": {"start"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
}

# Absolute URLs only, with these schemes: no javascript:, data:, vbscript:, and no relative URLs
# (a relative URL would point into the LMS itself, with the learner's session).
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})


def sanitize_feedback(html: str) -> str:
    """
    Return ``html`` with scripts, style elements, event-handler attributes and unsafe URLs removed.

    Kept: the tags in ALLOWED_TAGS with the attributes in ALLOWED_ATTRIBUTES; links get
    ``rel="noopener noreferrer"``. Dropped: comments; unknown tags are unwrapped (their text stays); the tags
    in REMOVED_WITH_CONTENT go with everything inside them. Unpaired surrogates become U+FFFD.
    """
    if not html:
        return ""
    return nh3.clean(
        _LONE_SURROGATE.sub("\ufffd", html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
