"""Schedule specs: a constructor call as one writes it in Python, parsed by a strict grammar.

A spec is one call of a schedule class with literal arguments, e.g.
``OneCycleLR(max_lr=0.1, total_steps=1000)`` or
``SequentialLR([LinearLR(0.1, 0.01, total_iters=5), StepLR(0.1, 30)], milestones=[5])``;
or ``@path.json``: a file holding a ``to_config()`` dict (a regular file of at most
1 MiB, without repeated keys). The text is parsed with
``ast.parse`` and the tree is checked node by node: nothing is evaluated, looked up or
imported, so a spec can never run code. Every failure is a ``SpecError`` with one line
naming what was wrong and where.

Grammar (anything else is rejected)::

    spec      := NAME "(" [argument ("," argument)*] ")"   NAME: one of the schedule classes
               | "hf." FUNCTION "(" [argument ("," argument)*] ")"
    argument  := literal | IDENT "=" literal
    literal   := int | float | str | True | False | None | ("-" | "+") number
               | "[" literal, ... "]" | "(" literal, ... ")"
    schedules argument := "[" spec, ... "]"
        (SequentialLR's and ChainedScheduler's schedulers, optax.JoinSchedules' schedules:
        a class's _schedules_argument)

A NAME of transformers' schedules is ``hf.<Class>`` (``hf.CosineWithWarmup(0.1, 10, 100)``);
a FUNCTION is one of [``lrfun.hf``][lrfun.hf]'s ``get_*`` functions, called as in Python
(``hf.get_scheduler('cosine', 0.1, num_warmup_steps=10, num_training_steps=100)``), whose
``scheduler_specific_kwargs`` may be a dict literal with string keys.

Integers lie in the 64-bit range ``[-2**63, 2**63 - 1]``, in specs and configs alike: no
schedule argument means anything beyond it, and numbers past it overflow float and int64
arithmetic in the schedules and in torch.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import math
import os
import re
import stat
from collections.abc import Callable, Mapping
from typing import Any, cast

from lrfun._schedule import Configurable, classes, from_config, registered
from lrfun._suggest import did_you_mean, listed
from lrfun._validate import PATH_SHOWN, _shown

__all__ = ["MAX_CONFIG_BYTES", "SpecError", "load", "parse", "read_file", "spec_names", "to_spec"]

# Bounds that keep a hostile spec from exhausting the parser or the constructors.
_MAX_LENGTH = 100_000
_MAX_DEPTH = 32
# A config file is read only when it is a regular file no larger than this.
MAX_CONFIG_BYTES = 1 << 20
# Integers beyond the int64 range mean nothing to any schedule (see the module docstring).
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

# What a rejected node is, in words.
_KINDS: dict[type[ast.AST], str] = {
    ast.Attribute: "an attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.BinOp: "an arithmetic operation",
    ast.BoolOp: "a boolean operation",
    ast.Compare: "a comparison",
    ast.IfExp: "a conditional expression",
    ast.JoinedStr: "an f-string",
    ast.Starred: "a starred argument",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.NamedExpr: "an assignment expression",
    ast.Await: "an await",
    ast.Yield: "a yield",
    ast.YieldFrom: "a yield",
    ast.Slice: "a slice",
}


def _functions() -> dict[str, Callable[..., Configurable]]:
    """The functions a spec may call, by dotted name: [``lrfun.hf``][lrfun.hf]'s ``get_*``."""
    from lrfun import hf

    return {f"hf.{name}": getattr(hf, name) for name in hf.__all__ if name.startswith("get_")}


def spec_names() -> tuple[str, ...]:
    """Every name a spec may call: the schedule classes that take no Python function (or a
    number in its place: ``MultiplicativeLR(0.1, lr_lambda=0.95)``), and
    [``lrfun.hf``][lrfun.hf]'s ``get_*`` functions.

    >>> "StepLR" in spec_names(), "LambdaLR" in spec_names(), "hf.get_scheduler" in spec_names()
    (True, False, True)
    """
    ours = [cls._name for cls in classes() if not _needs_function(cls)]
    return (*ours, *sorted(_functions()))


def _needs_function(cls: type[Configurable]) -> bool:
    """Whether the class takes an argument that only a Python function fills (LambdaLR's
    ``lr_lambda``), which no spec or JSON holds; MultiplicativeLR's takes numbers too."""
    return cls._function_argument is not None and not cls._function_takes_numbers


class SpecError(ValueError):
    """A spec that does not describe a schedule; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def parse(text: str) -> Configurable:
    """Builds the schedule a spec describes.

    Args:
      text: one schedule constructor call with literal arguments (see the module docstring).

    Returns:
      The schedule (or a metric-driven machine: ReduceLROnPlateau, hf.GreedyLR).

    Raises:
      SpecError: the text is not a spec, names something that is not a schedule, holds
        anything but literals, or the constructor rejects an argument.

    >>> parse("StepLR(0.1, step_size=30)")
    StepLR(base_lr=0.1, step_size=30, gamma=0.1)
    """
    if not isinstance(text, str):
        raise SpecError(f"a spec must be a string, got {type(text).__name__}")
    if len(text) > _MAX_LENGTH:
        raise SpecError(f"the spec is {len(text)} characters long; at most {_MAX_LENGTH}")
    if not text.strip():
        raise SpecError("the spec is empty: write a schedule call such as 'StepLR(0.1, 30)'")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise SpecError(f"the spec is not a Python expression ({e.msg}{where})") from None
    except (RecursionError, MemoryError):
        raise SpecError("the spec is nested too deeply to parse") from None
    except ValueError as e:  # null bytes, over-long integer literals
        raise SpecError(f"the spec cannot be parsed: {e}") from None
    source = text.strip()
    call = _Reader(source).call(tree.body, depth=0)
    return _construct(call)


def load(spec: str) -> Configurable:
    """A spec, or ``@path`` to a JSON file holding a ``to_config()`` dict.

    The file must be a regular file of at most ``MAX_CONFIG_BYTES`` (1 MiB), hold one
    JSON object, repeat no key within an object, and hold integers in the 64-bit range.

    Raises:
      SpecError: the file cannot be read, is not JSON, or is not a valid config.
    """
    if not isinstance(spec, str) or not spec.startswith("@"):
        return parse(spec)
    path = spec[1:]
    where = _shown(path, PATH_SHOWN)
    text = read_file(path, MAX_CONFIG_BYTES, what="config")
    try:
        config = json.loads(text, object_pairs_hook=_unique_keys)
    except SpecError as e:
        raise SpecError(f"{where}: {e}") from None
    except (ValueError, RecursionError) as e:
        raise SpecError(f"{where} is not valid JSON: {e}") from None
    if not isinstance(config, Mapping):
        raise SpecError(f"{where} must hold a config object, got {type(config).__name__}")
    _check_integers(config, where)
    return _from_config(config, where=where)


def read_file(path: str, limit: int, *, what: str) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes.

    Anything else is refused before it is read: a directory, a device (``/dev/zero``), a
    FIFO (opened without blocking, so a FIFO with no writer cannot hang the reader), a
    socket, or a file larger than ``limit``. The read itself is bounded too (a file that
    grows while it is read).

    Raises:
      SpecError: one line naming the file and why it is refused.
    """
    name = f"{what} {_shown(path, PATH_SHOWN)}"
    if "\0" in path:
        raise SpecError(f"cannot read {name}: the name holds a NUL character")
    try:
        kind = os.stat(path).st_mode
        if not stat.S_ISREG(kind):
            raise SpecError(f"{name} is {_file_kind(kind)}, not a regular file")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())  # the file opened, which may not be the one stat saw
            if not stat.S_ISREG(info.st_mode):
                raise SpecError(f"{name} is {_file_kind(info.st_mode)}, not a regular file")
            if info.st_size > limit:
                raise SpecError(f"{name} is {info.st_size} bytes long; at most {limit} are read")
            data = file.read(limit + 1)
    except OSError as e:
        raise SpecError(f"cannot read {name}: {e.strerror or e}") from None
    if len(data) > limit:
        raise SpecError(f"{name} is over {limit} bytes long; at most {limit} are read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(
            f"cannot read {name}: not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None


def _file_kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((text for test, text in kinds.items() if test(mode)), "something else")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' object hook: a key given twice is refused (JSON would keep the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(f"the key {key[:60]!r} is given twice in one object")
        out[key] = value
    return out


def _check_integers(value: Any, where: str, path: str = "") -> None:
    """Refuses integers outside the int64 range anywhere in a config, naming their key."""
    stack = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, Mapping):
            stack.extend((v, f"{at}.{k}" if at else str(k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, int) and not _INT_MIN <= item <= _INT_MAX:
            raise SpecError(f"{where}: {at or 'a value'} = {_short_int(item)} {_INT_RANGE}")


_INT_RANGE = "lies outside the 64-bit integer range [-2**63, 2**63 - 1]"


def _short_int(value: int) -> str:
    text = str(value)
    digits = len(text.lstrip("-"))
    return text if len(text) <= 24 else f"{text[:12]}...({digits} digits)"


def to_spec(schedule: Configurable) -> str:
    """The shortest spec that ``parse`` turns back into an equal schedule: the
    arguments that differ from their defaults, by keyword (the first lr positionally).

    Raises:
      TypeError: an argument is a Python callable, which a spec cannot hold.
      ValueError: an argument is a non-finite float, which no literal spells.

    >>> to_spec(parse("OneCycleLR(0.1, total_steps=100)"))
    'OneCycleLR(0.1, total_steps=100)'
    """
    return _spec_of(schedule.to_config())


def _spec_of(config: Mapping[str, Any]) -> str:
    name = config["name"]
    cls = registered(name)
    assert cls is not None  # a config written by to_config
    fields = [f for f in dataclasses.fields(cls) if f.init]
    parts = []
    for i, field in enumerate(fields):
        if field.name not in config:
            continue
        value = config[field.name]
        has_default = field.default is not dataclasses.MISSING
        if has_default and _same(value, field.default):
            continue
        text = _literal_text(value)
        parts.append(text if i == 0 and not field.kw_only else f"{field.name}={text}")
    return f"{name}({', '.join(parts)})"


def _same(value: Any, default: Any) -> bool:
    # bools are not numbers here: cycle_momentum=1 is not the default True.
    if isinstance(value, bool) or isinstance(default, bool):
        return type(value) is type(default) and value == default
    return cast(bool, value == default)  # config values: plain data, compared as such


def _literal_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return _spec_of(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal_text(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} has no literal a spec can hold")
    return repr(value)


class _Reader:
    """Walks the parsed tree, accepting only the spec grammar; builds nested configs."""

    def __init__(self, source: str) -> None:
        self.source = source

    def where(self, node: ast.AST) -> str:
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        return f"at column {col}" if line == 1 else f"at line {line}, column {col}"

    def found(self, node: ast.AST) -> str:
        """What a node is, with its text (shortened)."""
        kind = _KINDS.get(type(node))
        if isinstance(node, ast.Name):
            kind = f"the name {_shown(node.id)}"
        elif isinstance(node, ast.Call):
            kind = "a call"
        elif isinstance(node, ast.Constant):
            kind = f"a {type(node.value).__name__} constant"
        elif isinstance(node, ast.UnaryOp):
            kind = "a unary operation"
        elif kind is None:
            kind = f"an expression ({type(node).__name__})"
        segment = ast.get_source_segment(self.source, node) or ""
        if len(segment) > 40:
            segment = segment[:37] + "..."
        return f"{kind} {segment!r}" if segment and "the name" not in kind else kind

    def reject(self, node: ast.AST, expected: str) -> SpecError:
        return SpecError(f"{expected}, found {self.found(node)} {self.where(node)}")

    def call(self, node: ast.AST, depth: int) -> dict[str, Any]:
        """A schedule call -> ``{"name", "args", "kwargs"}`` with literal values."""
        if depth > _MAX_DEPTH:
            raise SpecError(f"schedules are nested more than {_MAX_DEPTH} deep {self.where(node)}")
        if not isinstance(node, ast.Call):
            raise self.reject(node, "a spec must be a schedule call such as 'StepLR(0.1, 30)'")
        name = _dotted(node.func)
        if name is None:
            raise self.reject(node.func, "a spec calls a schedule by its name (or an hf. function)")
        cls = registered(name)
        if cls is None and name in _functions():
            return self.function_call(node, name)
        if cls is None:
            raise SpecError(_unknown_schedule(name, self.where(node.func)))
        if _needs_function(cls):
            raise SpecError(
                f"{name} takes a Python function ({cls._function_argument}), which a spec "
                "cannot hold: build it in Python"
            )
        holds = cls._schedules_argument
        fields = [f.name for f in dataclasses.fields(cls) if f.init and not f.kw_only]
        args = []
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                raise self.reject(arg, f"{name}'s arguments must be literals")
            argument = fields[i] if i < len(fields) else f"argument {i + 1}"
            composite = holds is not None and argument == holds
            args.append(
                self.schedulers(arg, name, depth, argument)
                if composite
                else self.literal(arg, name, argument=argument)
            )
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise SpecError(
                    f"{name}'s arguments must be literals, found '**' unpacking "
                    f"{self.where(keyword)}"
                )
            if keyword.arg in kwargs:
                raise SpecError(
                    f"{name} got argument {_shown(keyword.arg)} twice {self.where(keyword)}"
                )
            if holds is not None and keyword.arg == holds:
                kwargs[keyword.arg] = self.schedulers(keyword.value, name, depth, holds)
            else:
                kwargs[keyword.arg] = self.literal(keyword.value, name, argument=keyword.arg)
        return {"name": name, "args": args, "kwargs": kwargs, "where": self.where(node)}

    def function_call(self, node: ast.Call, name: str) -> dict[str, Any]:
        """A call of one of lrfun.hf's functions: literal arguments, and string-keyed dict
        literals (``scheduler_specific_kwargs``)."""
        args = [
            self.literal(arg, name, argument=f"argument {i + 1}", dicts=True)
            for i, arg in enumerate(node.args)
        ]
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg in kwargs:
                raise SpecError(
                    f"{name}'s arguments must be literals given once {self.where(keyword)}"
                )
            kwargs[keyword.arg] = self.literal(
                keyword.value, name, argument=keyword.arg, dicts=True
            )
        return {"name": name, "args": args, "kwargs": kwargs, "where": self.where(node)}

    def schedulers(
        self, node: ast.AST, name: str, depth: int, holds: str
    ) -> list[dict[str, Any]]:
        if not isinstance(node, (ast.List, ast.Tuple)):
            raise self.reject(node, f"{name}'s {holds} must be a list of schedule calls")
        return [self.call(child, depth + 1) for child in node.elts]

    def literal(
        self, node: ast.AST, name: str, depth: int = 0, *, argument: str = "", dicts: bool = False
    ) -> Any:
        expected = f"{name}'s arguments must be literals (numbers, strings, True/False/None, lists)"
        if depth > _MAX_DEPTH:
            raise SpecError(f"a literal is nested more than {_MAX_DEPTH} deep {self.where(node)}")
        value: object  # a constant's value, then a dict's value nodes
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, (bool, int, float, str)):
                return self.integer(value, node, name, argument)
            raise self.reject(node, expected)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = node.operand
            if (
                isinstance(operand, ast.Constant)
                and isinstance(operand.value, (int, float))
                and not isinstance(operand.value, bool)
            ):
                value = -operand.value if isinstance(node.op, ast.USub) else operand.value
                return self.integer(value, node, name, argument)
            raise self.reject(node, "a sign applies to a number only")
        if isinstance(node, (ast.List, ast.Tuple)):
            return [
                self.literal(element, name, depth + 1, argument=argument, dicts=dicts)
                for element in node.elts
            ]
        if dicts and isinstance(node, ast.Dict):
            out: dict[str, Any] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    raise self.reject(key or value, f"{name}'s dict keys must be strings")
                if key.value in out:
                    raise SpecError(f"the key {key.value[:60]!r} is given twice {self.where(key)}")
                out[key.value] = self.literal(value, name, depth + 1, argument=key.value)
            return out
        if isinstance(node, ast.Call):
            raise self.reject(node, f"only {_composite_names()} may be calls")
        raise self.reject(node, expected)

    def integer(self, value: Any, node: ast.AST, name: str, argument: str) -> Any:
        """The value, unless it is an integer outside the int64 range."""
        if isinstance(value, int) and not isinstance(value, bool):
            if not _INT_MIN <= value <= _INT_MAX:
                what = f"{name}'s {argument}" if argument else f"{name}'s argument"
                raise SpecError(f"{what} = {_short_int(value)} {self.where(node)} {_INT_RANGE}")
        return value


def _dotted(node: ast.AST) -> str | None:
    """``NAME`` or ``hf.NAME`` as written, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _construct(call: dict[str, Any]) -> Configurable:
    """Builds a parsed call (children first), turning the constructor's complaints into
    [``SpecError``][lrfun.SpecError]."""
    name, kwargs = call["name"], dict(call["kwargs"])
    cls = registered(name)
    if cls is None:  # one of lrfun.hf's functions (the reader accepted nothing else)
        function = _functions()[name]
        try:
            return function(*call["args"], **kwargs)
        except (TypeError, ValueError, ArithmeticError, NotImplementedError) as e:
            raise SpecError(f"{name} {call['where']}: {_suggested(function, e)}") from None
    holds = cls._schedules_argument
    positional = [f.name for f in dataclasses.fields(cls) if f.init and not f.kw_only]
    args = [
        [_construct(child) for child in arg]
        if holds is not None and i < len(positional) and positional[i] == holds
        else arg
        for i, arg in enumerate(call["args"])
    ]
    if holds is not None and holds in kwargs:
        kwargs[holds] = [_construct(child) for child in kwargs[holds]]
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError, ArithmeticError) as e:
        raise SpecError(f"{name} {call['where']}: {_constructor_message(cls, e)}") from None


def _unknown_schedule(name: str, where: str) -> str:
    """The refusal of a name no schedule has: the close names when there are some (the
    whole list says less than the one meant), else every name a spec may call."""
    known = spec_names()
    suggestion = did_you_mean(name, known)
    if suggestion:
        return f"unknown schedule {_shown(name)} {where}; {suggestion}"
    return f"unknown schedule {_shown(name)} {where}; a spec names one of {listed(known)}"


def _constructor_message(cls: type[Configurable], e: Exception) -> str:
    # Python's own signature errors say "__init__()", a refused keyword "StepLR()"; users
    # wrote the class name.
    name = cls._name
    text = str(e).replace(f"{cls.__name__}.__init__()", name).replace("__init__()", name)
    return _suggested(cls, e, text.replace(f"{cls.__name__}()", name))


_UNEXPECTED = re.compile(r"got an unexpected keyword argument '([^']*)'")


def _suggested(target: Callable[..., Any], e: Exception, text: str | None = None) -> str:
    """``e``'s message; for an argument the class or function does not take, followed by
    the close argument names (``total_step`` -> ``total_steps``), else by all of them."""
    text = str(e) if text is None else text
    found = _UNEXPECTED.search(text) if isinstance(e, TypeError) else None
    if found is None or text[found.end() :].startswith(";"):  # none, or already suggested
        return text
    try:
        taken = [
            p.name
            for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
    except (TypeError, ValueError):  # no signature to read: the message as it is
        return text
    suggestion = did_you_mean(found.group(1), taken)
    return f"{text}; {suggestion or 'it takes ' + ', '.join(taken)}"


def _from_config(config: Mapping[str, Any], where: str) -> Configurable:
    name = config.get("name")
    if not isinstance(name, str):
        raise SpecError(f"{where}: 'name' must be a schedule name, got {_shown(name)}")
    cls = registered(name)
    if cls is not None and _needs_function(cls):
        raise SpecError(f"{where}: {name} takes a Python function, which JSON cannot hold")
    try:
        return from_config(config)
    except (TypeError, ValueError, ArithmeticError, RecursionError) as e:
        message = _constructor_message(cls, e) if cls is not None else str(e)
        raise SpecError(f"{where}: {message}") from None


def _composite_names() -> str:
    """The arguments that hold schedule calls, by class
    (``ChainedScheduler/SequentialLR's schedulers``)."""
    holders: dict[str, list[str]] = {}
    for cls in classes():
        if cls._schedules_argument is not None:
            holders.setdefault(cls._schedules_argument, []).append(cls._name)
    return " and ".join(f"{'/'.join(names)}'s {argument}" for argument, names in holders.items())
