"""Where a secret can still be read from an error: a walk of everything the error lets a user reach.

`find_secret(error, secret)` follows the exception graph as a debugger or `%xmode Verbose` would:
`__cause__`, `__context__`, args, attributes, the traceback's frames and their locals, and from
there every container, object attribute (`__dict__` and slots), closure cell, bound method and
suspended generator. It returns the paths at which the secret shows in plain text (str or bytes).
Modules, classes and function globals are not entered: they reach the whole interpreter.

`assert_no_secret(error, secret)` also formats the error as a verbose traceback with every frame's
locals (`traceback.TracebackException(..., capture_locals=True)`), as IPython's Verbose mode does.

Types in `opaque` (the client's `Secret`, whose job is to hold the key behind a mask) are not
opened; everything else is.
"""

from __future__ import annotations

import collections
import traceback
import types
from typing import Any, Iterator

_SCALARS = (int, float, complex, bool, type(None), range)
_SKIP = (types.ModuleType, type, types.CodeType, types.BuiltinFunctionType, types.WrapperDescriptorType,
         types.MethodWrapperType, types.MethodDescriptorType, types.GetSetDescriptorType)


def _children(obj: Any) -> Iterator[tuple[str, Any]]:
    """The objects one step from `obj`, each with a label for the path."""
    if isinstance(obj, dict) or isinstance(obj, types.MappingProxyType):
        for key, value in list(obj.items()):
            yield f"[{key!r}]", value
            if not isinstance(key, _SCALARS):
                yield "<key>", key
        return
    if isinstance(obj, (list, tuple, set, frozenset, collections.deque)):
        for index, value in enumerate(list(obj)):
            yield f"[{index}]", value
        return
    if isinstance(obj, types.TracebackType):
        yield ".tb_frame", obj.tb_frame
        yield ".tb_next", obj.tb_next
        return
    if isinstance(obj, types.FrameType):
        yield f"<frame {obj.f_code.co_name}>.f_locals", obj.f_locals
        return
    if isinstance(obj, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
        frame = getattr(obj, "gi_frame", None) or getattr(obj, "cr_frame", None) or getattr(obj, "ag_frame", None)
        yield ".frame", frame
        return
    if isinstance(obj, types.MethodType):
        yield ".__self__", obj.__self__
        yield ".__func__", obj.__func__
        return
    if isinstance(obj, types.FunctionType):
        for index, cell in enumerate(obj.__closure__ or ()):
            try:
                yield f".__closure__[{index}]", cell.cell_contents
            except ValueError:  # an empty cell
                pass
        yield ".__defaults__", obj.__defaults__
        return
    if isinstance(obj, BaseException):
        yield ".args", obj.args
        yield ".__cause__", obj.__cause__
        yield ".__context__", obj.__context__
        yield ".__traceback__", obj.__traceback__
        yield ".__notes__", getattr(obj, "__notes__", None)
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict):
        yield ".__dict__", attributes
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name in ("__dict__", "__weakref__"):
                continue
            try:
                yield f".{name}", object.__getattribute__(obj, name)
            except (AttributeError, TypeError):
                pass


def find_secret(root: Any, secret: str, *, opaque: tuple[type, ...] = (), limit: int = 500_000) -> list[str]:
    """Paths from `root` to a str or bytes holding `secret` (empty when none does)."""
    needle_bytes = secret.encode()
    found: list[str] = []
    seen: set[int] = set()
    queue: collections.deque[tuple[str, Any]] = collections.deque([("error", root)])
    keep_alive: list[Any] = []  # ids stay unique only while their objects live (f_locals are fresh dicts)
    while queue and len(seen) < limit:
        path, obj = queue.popleft()
        if id(obj) in seen or isinstance(obj, _SCALARS) or isinstance(obj, _SKIP) or isinstance(obj, opaque):
            continue
        seen.add(id(obj))
        keep_alive.append(obj)
        if isinstance(obj, str):
            if secret in obj:
                found.append(path)
            continue
        if isinstance(obj, (bytes, bytearray, memoryview)):
            if needle_bytes in bytes(obj):
                found.append(path)
            continue
        try:
            queue.extend((path + label, child) for label, child in _children(obj))
        except Exception:  # an object that refuses to be looked into holds nothing we can read either
            continue
    assert len(seen) < limit, f"the walk from the error reached more than {limit} objects"
    return found


def verbose_traceback(error: BaseException) -> str:
    """The error as a traceback with every frame's locals, chained exceptions included."""
    formatted = traceback.TracebackException(type(error), error, error.__traceback__, capture_locals=True)
    return "".join(formatted.format())


def assert_no_secret(error: BaseException, secret: str, *, opaque: tuple[type, ...] = ()) -> None:
    """Fail with the paths at which `error` still lets the secret be read."""
    assert secret not in verbose_traceback(error), "the secret shows in the verbose traceback"
    assert secret not in str(error) and secret not in repr(error)
    paths = find_secret(error, secret, opaque=opaque)
    assert not paths, "the secret is reachable from the error at:\n  " + "\n  ".join(paths[:10])
