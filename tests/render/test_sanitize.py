"""Grader HTML sanitization: hostile markup goes, the markup legacy graders send stays."""

from __future__ import annotations

import html

import pytest

from xqueue_bridge.render.sanitize import sanitize_feedback


@pytest.mark.parametrize(
    ("hostile", "forbidden"),
    [
        ("<script>alert(1)</script><p>ok</p>", "alert"),
        ("<SCRIPT SRC=https://evil.example/x.js></SCRIPT><p>ok</p>", "evil"),
        ("<style>p { background: url(javascript:alert(1)) }</style><p>ok</p>", "javascript"),
        ("<style>@import 'https://evil.example/x.css';</style><p>ok</p>", "evil"),
        ('<img src="https://example.org/x.png" onerror="alert(1)">', "onerror"),
        ('<div onclick="alert(1)" onmouseover="alert(2)">ok</div>', "alert"),
        ('<body onload="alert(1)"><p>ok</p></body>', "onload"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "javascript"),
        ('<a href=" javascript:alert(1)">x</a>', "javascript"),
        ('<a href="vbscript:msgbox(1)">x</a>', "vbscript"),
        ('<img src="data:image/svg+xml;base64,PHN2Zy8+">', "data:"),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
        (
            '<video controls poster="javascript:alert(1)" src="https://example.org/v.mp4"></video>',
            "javascript",
        ),
        ('<audio controls><source src="data:audio/wav;base64,AAAA"></audio>', "data:"),
        ('<svg onload="alert(1)"><circle r="1"/></svg>', "alert"),
        ("<math><mtext><script>alert(1)</script></mtext></math>", "alert"),
        ('<iframe src="https://evil.example"></iframe>', "evil"),
        ('<object data="https://evil.example/x.swf"></object>', "evil"),
        ('<embed src="https://evil.example/x.swf">', "evil"),
        ('<form action="https://evil.example"><input name="password"></form>', "evil"),
        ('<div style="background:url(javascript:alert(1))">x</div>', "javascript"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "evil"),
        ('<base href="https://evil.example/">', "evil"),
        ("<p>ok</p><!--<script>alert(1)</script>-->", "alert"),
        ("<img src=x onerror=alert(1)//", "alert"),
    ],
)
def test_hostile_markup_is_removed(hostile, forbidden):
    cleaned = sanitize_feedback(hostile)

    assert forbidden not in cleaned.lower()
    assert "<script" not in cleaned.lower()


def _watcher_result(short: str, long: str, actual: str, expected: str, correct: bool) -> str:
    """A grader reply's msg in the shape xqueue-watcher's result templates give it."""
    esc = html.escape
    if correct:
        result = (
            '<div class="result-output result-correct">'
            f"<h4>{esc(short)}</h4><pre><p>{esc(long)}</p></pre>"
            f'<dl><dt>Output:</dt><dd class="result-actual-output"><pre>{esc(actual)}</pre></dd></dl>'
            "</div>"
        )
    else:
        result = (
            '<div class="result-output result-incorrect">'
            f"<h4>{esc(short)}</h4><pre><p>{esc(long)}</p></pre>"
            f'<dl><dt>Your output:</dt><dd class="result-actual-output"><pre>{esc(actual)}</pre></dd>'
            f"<dt>Correct output:</dt><dd><pre>{esc(expected)}</pre></dd></dl>"
            "</div>"
        )
    return (
        '<div class="test"><header>Test results</header><section>'
        '<div class="shortform"><p>INCORRECT</p></div>'
        '<div class="longform"><div class="result-errors"><ul><li><pre>Line 3: x &lt; 0</pre></li></ul></div>'
        f"{result}</div></section></div>"
    )


@pytest.mark.parametrize("correct", [True, False], ids=["correct-template", "incorrect-template"])
def test_xqueue_watcher_results_survive_unchanged(correct):
    msg = _watcher_result("Test double(2)", "Checks small inputs", "4\n", "4\n", correct)

    assert sanitize_feedback(msg) == msg


@pytest.mark.parametrize(
    "markup",
    [
        '<table class="results"><thead><tr><th>Test</th><th>Result</th></tr></thead>'
        '<tbody><tr><td colspan="2">passed</td></tr></tbody></table>',
        "<p><b>bold</b> <i>italic</i> <em>em</em> <strong>strong</strong><br>next line</p>",
        '<p><code>print(1)</code> <span class="hint">hint</span></p>',
        '<ol start="3"><li>three</li></ol>',
        '<a href="https://docs.python.org/3/" rel="noopener noreferrer">docs</a>',
        '<a href="mailto:staff@example.org" rel="noopener noreferrer">staff</a>',
        '<img src="https://example.org/plot.png" alt="plot" width="200" height="100">',
        '<audio controls="" src="https://example.org/a.mp3"></audio>',
        '<video controls="" src="https://example.org/v.mp4" width="320">'
        '<source src="https://example.org/v.webm" type="video/webm"></video>',
    ],
    ids=[
        "table",
        "inline-formatting",
        "code-and-span",
        "ordered-list",
        "https-link",
        "mailto-link",
        "image",
        "audio",
        "video",
    ],
)
def test_legacy_markup_survives(markup):
    assert sanitize_feedback(markup) == markup


def test_bare_media_attributes_are_kept_with_an_empty_value():
    assert sanitize_feedback('<audio controls src="https://example.org/a.mp3"></audio>') == (
        '<audio controls="" src="https://example.org/a.mp3"></audio>'
    )


def test_relative_and_unlisted_scheme_urls_are_dropped_but_the_element_stays():
    assert sanitize_feedback('<a href="/courses/x">course</a>') == '<a rel="noopener noreferrer">course</a>'
    assert sanitize_feedback('<img src="ftp://example.org/x.png" alt="x">') == '<img alt="x">'


def test_unknown_tags_are_unwrapped_and_text_is_escaped():
    assert sanitize_feedback("<blink>a < b & c</blink>") == "a &lt; b &amp; c"


def test_ids_and_inline_styles_are_dropped():
    assert sanitize_feedback('<div id="main" style="color:red" class="x">t</div>') == '<div class="x">t</div>'


def test_empty_message_stays_empty():
    assert sanitize_feedback("") == ""


def test_unpaired_surrogates_become_replacement_characters():
    assert sanitize_feedback("<p>a\ud800b</p>") == "<p>a\ufffdb</p>"


def test_output_is_deterministic():
    msg = _watcher_result("t", "l", "a", "e", False) + '<a href="https://x.example" title="t" class="c">x</a>'

    assert sanitize_feedback(msg) == sanitize_feedback(msg)
    assert sanitize_feedback(sanitize_feedback(msg)) == sanitize_feedback(msg)
