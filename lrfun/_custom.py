"""Schedules from the user's own functions: LambdaLR and MultiplicativeLR."""

from __future__ import annotations

import dataclasses
import dis
import inspect
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Literal, cast

import numpy as np

from lrfun import _validate as check
from lrfun._backend import SCALARS, Ctx, host_values, is_traced, table_end
from lrfun._chain import ChainMaps, Node, Shared, Simulation, Slot, check_steps, check_table
from lrfun._math import power
from lrfun._reference import TORCH
from lrfun._schedule import Cache, Schedule, lambdas, per_group

__all__ = ["LambdaLR", "MultiplicativeLR", "call_user_function"]

Fn = Callable[[Any], Any]


def call_user_function(ctx: Ctx, fn: Fn, step: Any, name: str) -> Any:
    """``fn(step)`` broadcast to the step's shape, for a user's torch-style function.

    Concrete steps (Python, NumPy, torch, JAX outside jit) are passed as torch passes them:
    one Python int per step, once per distinct step, with the results taken in float64 and
    then cast to the evaluation dtype. Any torch function therefore gives torch's values:
    ``if``/``else`` and the ``math`` module work, and integer arithmetic cannot overflow
    (``e * e`` on an int32 JAX step array wraps negative past step 46,340). Traced steps
    (jit, vmap, compile) are passed as the integer step array: the function must then use
    array operations, and it computes in the traced dtypes (int32/float32 under JAX by
    default).

    Args:
      ctx: the evaluation namespace, dtype and device.
      fn: the user's function of the step.
      step: the integer step array.
      name: the argument's name, for the error raised when a traced call fails.

    Returns:
      ``fn`` at every step, an array of ``step``'s shape in the evaluation dtype.

    >>> import numpy as np
    >>> from lrfun._backend import Ctx
    >>> call_user_function(Ctx(np, np.float64, "cpu"), lambda e: 1.0 if e < 2 else 0.5,
    ...                    np.arange(4), "lr_lambda").tolist()
    [1.0, 1.0, 0.5, 0.5]
    """
    xp = ctx.xp
    if xp is SCALARS:  # one Python-int step: the call torch makes
        return float(fn(int(step)))
    if is_traced(step):
        try:
            out = fn(step)
        except Exception as error:
            raise TypeError(
                f"{name} {fn!r} failed on a traced step array ({error}); inside jit, vmap or "
                "torch.compile it must use array operations (e.g. jnp.where instead of "
                "if/else), or pass horizon=N where the schedule takes one"
            ) from error
        return xp.broadcast_to(xp.asarray(out, dtype=ctx.dtype, device=ctx.device), step.shape)
    return ctx.from_host(_per_step(fn, host_values(step)))


def _per_step(fn: Fn, host: np.ndarray) -> np.ndarray:
    """``float(fn(k))`` for every step ``k`` of a non-negative integer array, called with Python
    ints once per distinct step: float64, of the array's shape."""
    flat = host.reshape(-1)
    if not flat.size:
        return np.zeros(host.shape)
    low, high = int(flat.min()), int(flat.max())
    if high - low < 2 * flat.size:
        # A run of steps (a trajectory, a block, one step): the span costs no sort.
        span = _calls(fn, range(low, high + 1), high - low + 1)
        values: np.ndarray = span[flat - low].reshape(host.shape)
        return values
    distinct, index = np.unique(flat, return_inverse=True)
    return _calls(fn, distinct.tolist(), distinct.size)[index].reshape(host.shape)


def _calls(fn: Fn, steps: Iterable[int], count: int) -> np.ndarray:
    return np.fromiter(map(float, map(fn, steps)), dtype=np.float64, count=count)


def _per_group(ctx: Ctx, step: Any, fns: Fn | Sequence[Fn], each: Callable[..., Any]) -> Any:
    """Applies ``each(ctx, fn, step, index)`` per lambda, stacking groups on the last axis."""
    if not isinstance(fns, tuple):
        return each(ctx, fns, step, 0)
    flat = step[..., 0]
    return ctx.xp.stack([each(ctx, fn, flat, i) for i, fn in enumerate(fns)], axis=-1)


class _Factors(Node):
    """MultiplicativeLR's functions as a node of the host simulation (``lrfun._chain``):
    step ``k`` multiplies each column's running product by ``float(fn(k))``, called with the
    Python int ``k`` as torch calls it, in torch's order. The simulation keeps the products
    in blocks and checkpoints within lrfun's budget, behind its lock."""

    def __init__(self, fns: tuple[Fn, ...]) -> None:
        self.fns, self.epoch = fns, 0

    def construct(self, lr: np.ndarray, mom: Any) -> tuple[Any, Any]:
        self.epoch = 0  # torch never calls the function at step 0
        return lr, mom

    def plan(self, kinds: np.ndarray, groups: int) -> list[Slot]:
        # The simulation steps its root at every step of a block (kinds are all 1).
        lo = self.epoch + 1
        self.epoch += kinds.size
        steps = range(lo, self.epoch + 1)
        a = np.stack([_calls(fn, steps, kinds.size) for fn in self.fns], axis=1)
        return [(a, np.zeros_like(a), None, None)]

    def state(self) -> Any:
        return self.epoch

    def restore(self, state: Any) -> None:
        self.epoch = state


class _Products:
    """The root of the simulation of a MultiplicativeLR's running products (one column per
    function): only the functions, no lr (a traced base lr has no host value)."""

    def __init__(self, fns: tuple[Fn, ...]) -> None:
        self.fns = fns

    def _node(self, groups: int, base: np.ndarray, shared: Shared) -> Node:
        return _Factors(self.fns)


@dataclasses.dataclass(frozen=True)
class _UserFunctions(Schedule, register=False):
    """What LambdaLR and MultiplicativeLR share: the base lr, torch-style functions of the step
    (one per param group), and the host tables of the values they fix at steps ``0, 1, ...``
    (in the cache), which traced steps read up to ``horizon`` (NaN past it)."""

    base_lr: float | Sequence[float]
    lr_lambda: Fn | Sequence[Fn]
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    # LambdaLR: ("horizon", group) -> its function at steps 0..horizon; MultiplicativeLR:
    # "products" -> the simulation of the running products.
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )

    _function_argument = "lr_lambda"
    _hyperparameters: ClassVar[tuple[str, ...]] = ("base_lr",)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        lr_lambda = self._checked_functions(self.lr_lambda)
        if self.horizon is not None:
            check.integer("horizon", self.horizon, minimum=0)
        self._set(
            base_lr=base_lr,
            lr_lambda=lr_lambda,
            _groups=check.group_count(base_lr=base_lr, lr_lambda=lr_lambda),
            _tables=Cache(),
        )
        if self.horizon is not None:
            # Refused before it is built: rows of one value per function.
            check_table(
                "horizon",
                self.horizon,
                self.horizon + 1,
                len(self._fns()),
                f"{type(self).__name__}'s lr_lambda is tabulated on the host for jit/compile",
                "evaluate with concrete steps",
            )

    def _checked_functions(self, value: Any) -> Any:
        """``lr_lambda`` checked: a callable, or a non-empty list of them (one per group)."""
        return check.callables("lr_lambda", value)

    def _fns(self) -> tuple[Fn, ...]:
        fns = self.lr_lambda
        return fns if isinstance(fns, tuple) else (cast(Fn, fns),)

    def _what(self, i: int) -> str:
        return f"{type(self).__name__}'s lr_lambda {self._fns()[i]!r}"

    def _horizon_table(self, i: int) -> np.ndarray:
        """Group ``i``'s table for traced steps, steps ``0..horizon``."""
        raise NotImplementedError

    def _build_tables(self) -> None:
        # Built ahead: a function that fails on an int fails at construction, and traced
        # steps (torch.compile) find the tables ready.
        if self.horizon is not None:
            for i in range(len(self._fns())):
                self._horizon_table(i)

    def _tabulated(self, ctx: Ctx, step: Any, i: int) -> Any:
        """Traced steps: group ``i``'s table through ``horizon`` (NaN past it, never a
        made-up lr)."""
        # Named without its repr: formatted under torch.compile, which cannot repr a partial.
        last = table_end(step, self.horizon, f"{type(self).__name__}'s lr_lambda")
        values = ctx.gather(self._horizon_table(i), ctx.minimum(step, last))
        return ctx.xp.where(step <= last, values, ctx.xp.nan)

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {
            "base_lr": per_group(scheduler.base_lrs),
            "lr_lambda": lambdas(scheduler.lr_lambdas),
        }


@dataclasses.dataclass(frozen=True)
class LambdaLR(_UserFunctions):
    """Scales the base lr by a function of the step: ``lr(t) = base_lr * lr_lambda(t)``.

    On concrete steps ``lr_lambda`` gets what torch gives it, one Python int per step, so any
    torch function works and gives torch's values. Traced steps (jit, vmap, compile, inside
    optax) pass it the integer step array: an array-friendly function
    (``lambda e: 0.95 ** e``) then computes in the traced dtype (float32 under JAX by default:
    ``0.9999 ** e`` is 19x the float32 tolerance off torch by step 20,000). With ``horizon=N``
    traced steps instead read a table of ``lr_lambda(0..N)`` computed as torch computes it:
    exact to torch for any function up to step N, NaN past it.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      lr_lambda: a function of the step, or a list of them (one per param group).
      horizon: (keyword, lrfun only) steps to tabulate up front for traced evaluation (a
        table of at most half of lrfun's 64 MiB host budget: 2**22 - 1 for one function).

    >>> LambdaLR(0.1, lambda e: 0.5 ** e)(2)
    0.025
    """

    _reference = TORCH

    # Every torch step sets the lr to base_lr * lr_lambda(epoch).
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "absolute"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._build_tables()

    def _horizon_table(self, i: int) -> np.ndarray:
        fn, rows = self._fns()[i], cast(int, self.horizon) + 1
        table: np.ndarray = self._tables.get(("horizon", i), lambda: _calls(fn, range(rows), rows))
        return table

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        def each(ctx: Ctx, fn: Fn, step: Any, i: int) -> Any:
            if self.horizon is not None and is_traced(step):
                return self._tabulated(ctx, step, i)
            return call_user_function(ctx, fn, step, "lr_lambda")

        return ctx.const(self.base_lr) * _per_group(ctx, step, self.lr_lambda, each)


# The instructions of a function whose whole body is ``return <constant>``: CPython compiles
# it to a load of the constant and a return (3.11: LOAD_CONST, RETURN_VALUE; 3.12-3.13:
# RETURN_CONST; 3.14: LOAD_CONST or LOAD_SMALL_INT, RETURN_VALUE), after RESUME.
_NO_OPS = frozenset({"RESUME", "NOP", "CACHE"})
_LOADS = frozenset({"LOAD_CONST", "LOAD_SMALL_INT"})


def _constant(fn: Any) -> float | None:
    """The factor of a constant ``lr_lambda``, else None: a number given for it, or a
    function whose whole body is ``return <number>`` (``lambda e: 0.95``), read from its
    code without calling it.

    Nothing else is taken for constant: no finite set of calls proves a function constant
    (``lambda e: 0.5 if e in (30, 60) else 1.0`` answers 1.0 at every step but two), and a
    function is only ever called with what torch passes it, one Python int per step. A
    function that reads anything (its argument, a global, a closure cell, a default) is
    multiplied out step by step, as torch does.
    """
    if isinstance(fn, _Factor):
        return fn.value
    if not isinstance(fn, types.FunctionType):
        return None
    try:
        inspect.signature(fn).bind(0)  # torch calls it with one positional int
    except (TypeError, ValueError):
        return None
    ops = [i for i in dis.get_instructions(fn) if i.opname not in _NO_OPS]
    if len(ops) == 1 and ops[0].opname == "RETURN_CONST":
        value = ops[0].argval
    elif len(ops) == 2 and ops[0].opname in _LOADS and ops[1].opname == "RETURN_VALUE":
        value = ops[0].argval
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int past float's range: torch's product overflows too
        return None


@dataclasses.dataclass(frozen=True)
class _Factor:
    """A constant factor given as a number for ``lr_lambda``: the function of the step torch
    is given in its place (the live reference, the host simulations)."""

    value: float

    def __call__(self, epoch: Any) -> float:
        return self.value


def _factor_or_function(name: str, value: Any) -> Any:
    """One of MultiplicativeLR's ``lr_lambda``: a callable, or a finite number (a constant
    factor, kept as a float)."""
    if callable(value):
        return value
    if isinstance(value, bool) or not (
        isinstance(value, (int, float)) or getattr(value, "shape", None) == ()
    ):
        raise TypeError(
            f"{name} must be callable or a number (a constant factor), got {check._shown(value)}"
        )
    return float(check.real(name, value))


@dataclasses.dataclass(frozen=True)
class MultiplicativeLR(_UserFunctions):
    """Multiplies the lr by ``lr_lambda(t)`` at every step ``t >= 1``.

    ``lr(t) = base_lr * prod(lr_lambda(k) for k in 1..t)``. A constant factor has the closed
    form ``base_lr * 0.95 ** t`` and works everywhere (jit, vmap, compile, at any step): given
    as a number (``lr_lambda=0.95``, lrfun's own form, which configs hold; torch's scheduler
    is given ``lambda e: 0.95`` for it), or a function whose whole body is ``return
    <number>`` (``lambda e: 0.95``), which lrfun reads from its code without calling it.
    Any other function is multiplied out on the host, calling it with Python ints as torch
    does: concrete steps are computed from step 0, a block of steps at a time, within lrfun's
    memory budget (a step past 10**8 calls of the function is refused); traced steps (jit,
    compile) read a table built at construction up to ``horizon`` steps, and give NaN past it.

    A function is never called with anything torch would not pass it, and never taken for
    constant because some calls agree: ``lambda e: 0.5 if np.isin(e, [30, 60]).any() else
    1.0`` halves the lr at steps 30 and 60, as in torch. A factor read from a closure or a
    default (``lambda e: gamma``) is multiplied out like any function: pass the number.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      lr_lambda: a function of the step or a finite number (a constant factor), or a list
        of them (one per param group).
      horizon: (keyword, lrfun only) steps to tabulate up front for traced evaluation of a
        non-constant ``lr_lambda`` (at most 2**22 - 1 for one function, as LambdaLR's).
      start_lr: (keyword) the group's lr when torch's scheduler took its first step, where it
        differs from ``base_lr`` (built after another scheduler ran; ``from_torch`` reads it):
        the factors multiply it.

    >>> MultiplicativeLR(1.0, lambda e: 0.5)(3), MultiplicativeLR(1.0, 0.5)(3)
    (0.125, 0.125)
    """

    _reference = TORCH

    # Numbers too (constant factors): a widening of the base class's field.
    lr_lambda: Fn | float | Sequence[Fn | float]  # type: ignore[assignment]
    start_lr: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    _constants: tuple[float | None, ...] = dataclasses.field(init=False, repr=False, compare=False)

    # torch multiplies the lr by lr_lambda(epoch) at every step after the first; it has no
    # closed form, so SequentialLR restarts it from the lr the previous child left.
    _hyperparameters = ("base_lr", "start_lr")
    _function_takes_numbers = True
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "factor"
    _continues: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        start_lr = check.start_lr(self.start_lr)
        fns = self._fns()
        self._set(
            start_lr=start_lr,
            _groups=check.group_count(
                base_lr=self.base_lr, lr_lambda=self.lr_lambda, start_lr=start_lr
            ),
            _constants=tuple(_constant(fn) for fn in fns),
        )
        self._build_tables()

    def _checked_functions(self, value: Any) -> Any:
        """``lr_lambda`` checked: a callable or a number, or a non-empty list of them."""
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"lr_lambda must not be empty, got {check._shown(value)}")
            return tuple(_factor_or_function(f"lr_lambda[{i}]", v) for i, v in enumerate(value))
        return _factor_or_function("lr_lambda", value)

    def _fns(self) -> tuple[Fn, ...]:
        # A number stands for the constant function torch would be given.
        return tuple(fn if callable(fn) else _Factor(fn) for fn in super()._fns())

    def _live_arguments(self) -> dict[str, Any]:
        arguments = super()._live_arguments()
        fns = self._fns()
        arguments["lr_lambda"] = list(fns) if isinstance(self.lr_lambda, tuple) else fns[0]
        return arguments

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        arguments = super()._from_torch(scheduler)
        # The live object of a factor given as a number holds it as a number again.
        fns = arguments["lr_lambda"]
        if isinstance(fns, list):
            arguments["lr_lambda"] = [fn.value if isinstance(fn, _Factor) else fn for fn in fns]
        elif isinstance(fns, _Factor):
            arguments["lr_lambda"] = fns.value
        return arguments

    def _products(self) -> Simulation:
        """The products ``lr_lambda(1) * ... * lr_lambda(k)`` of every function (a column
        each), multiplied one step after another as torch multiplies the lr: a simulation
        built once, kept in the cache (its blocks and checkpoints within lrfun's budget)."""
        fns = self._fns()

        def build() -> Simulation:
            ones = np.ones(len(fns))
            return Simulation(_Products(fns), len(fns), ones, ones)

        simulation: Simulation = self._tables.get("products", build)
        return simulation

    def _horizon_table(self, i: int) -> np.ndarray:
        table: np.ndarray = self._products().upto(cast(int, self.horizon))[0][:, i]
        return table

    def _products_at(self, ctx: Ctx, step: Any, i: int) -> Any:
        """Function ``i``'s running product at ``step``: traced steps read the horizon's
        table; concrete ones are simulated as far as the highest (refused past
        ``lrfun._chain.MAX_MAPS`` calls of the functions)."""
        if is_traced(step):
            return self._tabulated(ctx, step, i)
        products = self._products()
        host = host_values(step)
        last = int(host.max()) if host.size else 0
        check_steps(
            last,
            products,
            self._what(i),
            "pass a constant factor as a number (lr_lambda=0.95: a closed form, at any step)",
            "calls of the functions",
        )
        steps, inverse = np.unique(host, return_inverse=True)
        values = products.values(steps)[0][:, i]
        index = ctx.xp.asarray(inverse.reshape(host.shape), device=ctx.device)
        return ctx.gather(values, index)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return self._started(ctx, step, self.base_lr if self.start_lr is None else self.start_lr)

    def _started(self, ctx: Ctx, step: Any, start: Any) -> Any:
        return ctx.const(start) * self._factor(ctx, step)

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        """The product of the factors up to ``step``: the lr relative to the base."""

        def each(ctx: Ctx, fn: Fn, step: Any, i: int) -> Any:
            constant = self._constants[i]
            if constant is None:
                return self._products_at(ctx, step, i)
            # A negative factor flips the sign every step; the log-form power needs >= 0.
            sign = 1.0 if constant >= 0 else ctx.where(step % 2 == 0, 1.0, -1.0)
            return sign * power(ctx, abs(constant), ctx.float(step))

        # a plain local, not a cast() call: dynamo cannot trace a partial passed through it
        fns: Any = self.lr_lambda
        return _per_group(ctx, step, fns, each)

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        fns = self._fns() * (groups // len(self._fns()))
        f = np.array([[float(fn(k)) for fn in fns] for k in epochs.tolist()])
        return ChainMaps.factor(self, f, epochs, groups, restart=(f[0], np.zeros(groups)))

    def _restarted(self, ctx: Ctx, since: Any, base: Any, previous: Any) -> Any:
        # torch's _update_lr(0) has no closed form here: it multiplies the lr the previous
        # child left by lr_lambda(0).
        first = tuple(float(fn(0)) for fn in self._fns())
        first_value = first if isinstance(self.lr_lambda, tuple) else first[0]
        return ctx.const(previous) * ctx.const(first_value) * self._factor(ctx, since)
