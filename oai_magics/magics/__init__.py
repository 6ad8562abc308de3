"""The magics: %%chat, %image, %embed, %assistant and %oai, registered by `register()`.

Loading imports only IPython pieces already in memory; the client, pandas, numpy, matplotlib
and the sandbox load on the first magic that needs them.
"""

from __future__ import annotations

from typing import Any

from . import question_marks

__all__ = ["register", "unregister", "session_of"]

_LOADED: dict[int, Any] = {}


def register(shell: Any) -> None:
    from .assistant import AssistantMagics
    from .chat import ChatMagics
    from .embed import EmbedMagics
    from .image import ImageMagics
    from .oai import OAIMagics

    settings = OAIMagics(shell)  # Magics add themselves to shell.configurables: %config OAIMagics works
    families = [settings, ChatMagics(shell, settings.session), ImageMagics(shell, settings.session),
                EmbedMagics(shell, settings.session), AssistantMagics(shell, settings.session)]
    for family in families:
        shell.register_magics(family)
    # A prompt line ending in "?" is sent, not taken for a help request on its last word.
    questions = question_marks.install(shell, [name for family in families for name in family.magics["line"]])
    _LOADED[id(shell)] = (settings, families, questions)


def session_of(shell: Any) -> Any:
    """The oai_magics session of a shell (profile, conversations, request log)."""
    return _LOADED[id(shell)][0].session


def unregister(shell: Any) -> None:
    settings, families, questions = _LOADED.pop(id(shell), (None, [], None))
    question_marks.uninstall(shell, questions)
    manager = shell.magics_manager
    for family in families:
        for kind, names in family.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
        if family in manager.registry.values():
            manager.registry.pop(type(family).__name__, None)
        if family in shell.configurables:
            shell.configurables.remove(family)
    if settings is not None:
        settings.session.close()
