"""Magics run from widget callbacks in a real kernel: a callback (an ipywidgets button) runs under
the kernel's comm message, with no cell id, a new message id each time and the execution count of
the last cell; chats asked from it are each remembered, none taken for a re-run of another.
"""

from __future__ import annotations

from tests.helpers.kernels import Kernel


# -- chats from widget callbacks forget each other -------------------------------------------------
# A callback (an ipywidgets button) runs under the kernel's comm message: no cell id, a new message id
# each time, and the execution count of the last cell. Each click is taken for a re-run of one "cell"
# and replaces the click before it, which is then neither remembered nor sent as context.

def test_chats_asked_from_a_button_all_stay_in_the_conversation(kernel: Kernel) -> None:
    setup = kernel.run("""
import ipywidgets
from oai_magics.magics import session_of
questions = iter(["--new About owls", "About bats", "About cats"])
button = ipywidgets.Button(description="Ask")
button.on_click(lambda _: get_ipython().run_line_magic("chat", next(questions)))
""")
    assert setup["status"] == "ok", setup
    click = {"comm_id": kernel.value("button.model_id"), "data": {"method": "custom", "content": {"event": "click"}}}
    for _ in range(3):  # what JupyterLab sends when the button is clicked, three times with no cell run between
        kernel.client.shell_channel.send(kernel.client.session.msg("comm_msg", click))
    # Read after the clicks: the kernel handles shell messages in the order they came.
    exchanges = "session_of(get_ipython()).conversations['default'].exchanges"
    remembered = kernel.value(f"[e.messages[0]['content'] for e in {exchanges}]")
    assert remembered == ["About owls", "About bats", "About cats"]
