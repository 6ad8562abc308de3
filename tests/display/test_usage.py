"""display.usage: the line under a reply that says model, latency and tokens."""

from __future__ import annotations

from IPython.utils.capture import capture_output

from oai_magics.display.usage import show_usage


def test_the_usage_line_is_grey_html_and_plain_text() -> None:
    with capture_output() as out:
        show_usage("gpt-<4o>", 1.234, {"prompt_tokens": 5, "completion_tokens": 7})
    [line] = out.outputs
    assert line.data["text/plain"] == "gpt-<4o> · 1.23 s · 5 prompt + 7 completion tokens"
    assert line.data["text/html"] == ('<div class="oai-usage" style="color:#888;font-size:85%">gpt-&lt;4o&gt; · 1.23 s · '
                                      '5 prompt + 7 completion tokens</div>')
    assert line.metadata == {"oai": "usage"}
