"""A griffe extension for the API reference: what a reader of lrfun's pages should see.

The reference is built by inspecting the imported modules (lrfun's schedules are dataclasses
made by a decorator), which by itself shows more than the public API and some of it wrong:

- a dataclass field with a default is a class attribute whose "docstring" is the docstring of
  its value's type (``int([x]) -> integer ...``): such borrowed docstrings are dropped, and an
  attribute without a docstring of its own is not shown (the field is a documented parameter
  of the class already);
- dunder methods are public to griffe: only ``__call__`` (a schedule's entry point) is kept;
- a class whose base is private (``lrfun._decay._Decay``) shows, in its place, the nearest
  public ancestors under their public names (``lrfun.Schedule``).

Which module members are shown is the module's ``__all__`` (``filters: public`` in
mkdocs.yml).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe

# Modules whose __all__ names the public home of a class (the first one naming it wins).
_PUBLIC_MODULES = ("lrfun", "lrfun.extend", "lrfun.hf", "lrfun.torch", "lrfun.optax", "parity")
_KEPT_SPECIAL = frozenset({"__call__"})


def _public_names() -> dict[int, str]:
    """The public path of every class a public module exports, by the class's id."""
    names: dict[int, str] = {}
    for module_name in _PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name, None)
            if inspect.isclass(value):
                names.setdefault(id(value), f"{module_name}.{name}")
    return names


def _is_private(cls: type) -> bool:
    return cls.__name__.startswith("_") or any(
        part.startswith("_") for part in cls.__module__.split(".")
    )


def _public_bases(cls: type, names: dict[int, str]) -> list[str]:
    """The paths of ``cls``'s bases, a private base replaced by its own public bases."""
    paths: list[str] = []
    for base in cls.__bases__:
        if base is object:
            continue
        if id(base) in names:
            found = [names[id(base)]]
        elif _is_private(base):
            found = _public_bases(base, names)
        else:
            found = [f"{base.__module__}.{base.__qualname__}"]
        paths.extend(path for path in found if path not in paths)
    return paths


def _text(docstring: str) -> str:
    """The docstring's text, fence lines (which DoctestFences may have added) left out."""
    lines = inspect.cleandoc(docstring).splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("```"))


def _borrowed(docstring: str, value: Any) -> bool:
    """Whether ``docstring`` is only the docstring of ``value``'s type (or of ``value``
    itself, where the value is a class or a function documented elsewhere)."""
    for source in (type(value), value):
        doc = getattr(source, "__doc__", None)
        if isinstance(doc, str) and _text(doc) == _text(docstring):
            return True
    return False


class ApiReference(griffe.Extension):
    """Drops borrowed docstrings and dunders, and names private bases by public ancestors."""

    def __init__(self) -> None:
        super().__init__()
        self._names: dict[int, str] | None = None

    def on_attribute_instance(
        self, *, node: Any, attr: griffe.Attribute, **kwargs: Any
    ) -> None:
        value = getattr(node, "obj", None)
        if attr.docstring is not None and _borrowed(attr.docstring.value, value):
            attr.docstring = None

    def on_class_instance(self, *, node: Any, cls: griffe.Class, **kwargs: Any) -> None:
        runtime = getattr(node, "obj", None)
        if not inspect.isclass(runtime) or not any(_is_private(b) for b in runtime.__bases__):
            return
        if self._names is None:
            self._names = _public_names()
        bases: list[str | griffe.Expr] = []
        for path in _public_bases(runtime, self._names):
            module, _, name = path.rpartition(".")
            bases.append(griffe.ExprName(name, parent=module))
        cls.bases = bases

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.is_class:
                for member in obj.members.values():
                    if member.is_special and member.name not in _KEPT_SPECIAL:
                        member.public = False


def _walk(obj: griffe.Object) -> Any:
    """Every object defined under ``obj`` (aliases, which live elsewhere, left out)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)  # type: ignore[arg-type]
