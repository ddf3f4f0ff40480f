"""Schedules from the user's own functions: LambdaLR and MultiplicativeLR."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal, cast

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx, host_values, is_traced
from lrfun._chain import ChainMaps
from lrfun._convert import lambdas, per_group
from lrfun._math import power
from lrfun._schedule import Cache, Schedule, derived

__all__ = ["LambdaLR", "MultiplicativeLR", "call_user_function"]

Fn = Callable[[Any], Any]


def call_user_function(ctx: Ctx, fn: Fn, step: Any, name: str) -> Any:
    """``fn(step)`` broadcast to the step's shape, for a user's torch-style function.

    Concrete steps are evaluated on the host in float64, as torch evaluates them: the function
    gets a NumPy integer array (``lambda e: 0.95 ** e``), or -- if it only takes Python ints
    (``lambda e: 1.0 if e < 5 else 0.1``) -- one Python int per step. The result is then cast
    to the evaluation dtype, so a float32 backend loses nothing to the function's own float32
    rounding. Traced steps (jit, compile) are passed to the function as the integer step
    array: it must then use array operations, and it computes in the traced dtype.
    """
    xp = ctx.xp
    if is_traced(step):
        try:
            out = fn(step)
        except Exception as error:
            raise TypeError(
                f"{name} {fn!r} failed on a traced step array ({error}); inside jit/compile it "
                "must use array operations (e.g. jnp.where instead of if/else)"
            ) from error
        return xp.broadcast_to(xp.asarray(out, dtype=ctx.dtype, device=ctx.device), step.shape)
    host = host_values(step)
    try:
        values = np.array(np.broadcast_to(np.asarray(fn(host), dtype=np.float64), host.shape))
    except Exception:  # a function of Python ints only, as torch calls it
        values = np.vectorize(lambda k: float(fn(int(k))), otypes=[np.float64])(host)
    return xp.asarray(values, dtype=ctx.dtype, device=ctx.device)


def _per_group(ctx: Ctx, step: Any, fns: Fn | tuple[Fn, ...], each: Callable[..., Any]) -> Any:
    """Applies ``each(ctx, fn, step, index)`` per lambda, stacking groups on the last axis."""
    if not isinstance(fns, tuple):
        return each(ctx, fns, step, 0)
    flat = step[..., 0]
    return ctx.xp.stack([each(ctx, fn, flat, i) for i, fn in enumerate(fns)], axis=-1)


@dataclasses.dataclass(frozen=True)
class LambdaLR(Schedule):
    """Scales the base lr by a function of the step: ``lr(t) = base_lr * lr_lambda(t)``.

    ``lr_lambda`` receives the integer step(s): a Python int for a Python step, else the step
    array; torch-style functions of ints keep working on concrete arrays (called per step),
    and array-friendly ones (``lambda e: 0.95 ** e``) also work under jit and compile.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      lr_lambda: a function of the step, or a list of them (one per param group).

    >>> LambdaLR(0.1, lambda e: 0.5 ** e)(2)
    0.025
    """

    base_lr: float | Sequence[float]
    lr_lambda: Fn | Sequence[Fn]

    # Every torch step sets the lr to base_lr * lr_lambda(epoch).
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "absolute"
    _function_argument = "lr_lambda"
    _hyperparameters = ("base_lr",)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        lr_lambda = check.callables("lr_lambda", self.lr_lambda)
        self._set(
            base_lr=base_lr,
            lr_lambda=lr_lambda,
            _groups=check.group_count(base_lr=base_lr, lr_lambda=lr_lambda),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        def each(ctx: Ctx, fn: Fn, step: Any, i: int) -> Any:
            return call_user_function(ctx, fn, step, "lr_lambda")

        return ctx.const(self.base_lr) * _per_group(ctx, step, self.lr_lambda, each)

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {
            "base_lr": per_group(scheduler.base_lrs),
            "lr_lambda": lambdas(scheduler.lr_lambdas),
        }


def _constant(fn: Fn) -> float | None:
    """The value of a function that ignores its argument (``lambda e: 0.95``), else None."""
    try:
        probe = fn(np.arange(1, 4))
        if np.ndim(probe) == 0 and float(probe) == float(fn(1)) == float(fn(7)):
            return float(probe)
    except Exception:  # a function of Python ints only: not constant as far as we can tell
        return None
    return None


@dataclasses.dataclass(frozen=True)
class MultiplicativeLR(Schedule):
    """Multiplies the lr by ``lr_lambda(t)`` at every step ``t >= 1``.

    ``lr(t) = base_lr * prod(lr_lambda(k) for k in 1..t)``. A constant factor
    (``lambda e: 0.95``) has the closed form ``base_lr * 0.95 ** t`` and works everywhere.
    Any other function is tabulated on the host, calling it with Python ints as torch does:
    concrete steps extend the table as needed; traced steps (jit, compile) read a table built
    at construction up to ``horizon`` steps, and give NaN past it.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      lr_lambda: a function of the step, or a list of them (one per param group).
      horizon: (keyword, lrfun only) steps to tabulate up front for traced evaluation of a
        non-constant ``lr_lambda``.

    >>> MultiplicativeLR(1.0, lambda e: 0.5)(3)
    0.125
    """

    base_lr: float | Sequence[float]
    lr_lambda: Fn | Sequence[Fn]
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _constants: tuple[float | None, ...] = derived()
    _tables: Cache = derived(cache=True)  # group -> the products lr_lambda(1) * ... (k)

    # torch multiplies the lr by lr_lambda(epoch) at every step after the first; it has no
    # closed form, so SequentialLR restarts it from the lr the previous child left.
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "factor"
    _continues: ClassVar[bool] = True
    _function_argument = "lr_lambda"
    _hyperparameters = ("base_lr",)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        lr_lambda = check.callables("lr_lambda", self.lr_lambda)
        if self.horizon is not None:
            check.integer("horizon", self.horizon, minimum=0)
        self._set(lr_lambda=lr_lambda)
        fns = self._fns()
        self._set(
            base_lr=base_lr,
            _groups=check.group_count(base_lr=base_lr, lr_lambda=lr_lambda),
            _constants=tuple(_constant(fn) for fn in fns),
            _tables=Cache({i: [1.0] for i in range(len(fns))}),
        )
        for i in range(len(fns)):
            self._extend(i, self.horizon or 0)

    def _fns(self) -> tuple[Fn, ...]:
        fns = self.lr_lambda
        return fns if isinstance(fns, tuple) else (cast(Fn, fns),)

    def _extend(self, i: int, last: int) -> list[float]:
        table: list[float] = self._tables.setdefault(i, [1.0])
        fn = self._fns()[i]
        for k in range(len(table), last + 1):
            table.append(table[-1] * float(fn(k)))
        return table

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return ctx.const(self.base_lr) * self._factor(ctx, step)

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        """The product of the factors up to ``step``: the lr relative to the base."""

        def each(ctx: Ctx, fn: Fn, step: Any, i: int) -> Any:
            constant = self._constants[i]
            xp = ctx.xp
            if constant is not None:
                # A negative factor flips the sign every step; the log-form power needs >= 0.
                sign = 1.0 if constant >= 0 else ctx.where(step % 2 == 0, 1.0, -1.0)
                return sign * power(ctx, abs(constant), ctx.float(step))
            if is_traced(step):
                if self.horizon is None:
                    raise TypeError(
                        f"MultiplicativeLR's lr_lambda {fn!r} is not constant, so it is "
                        "tabulated on the host; pass horizon=N to tabulate N steps for jit "
                        "or compile"
                    )
                table = self._extend(i, self.horizon)
            else:
                host = host_values(step)
                table = self._extend(i, int(host.max()) if host.size else 0)
            values = ctx.gather(tuple(table), ctx.minimum(step, len(table) - 1))
            return xp.where(step < len(table), values, xp.nan)

        return _per_group(ctx, step, self.lr_lambda, each)

    def _chain_maps(self, n: int, groups: int, base: np.ndarray) -> ChainMaps:
        fns = self._fns() * (groups // len(self._fns()))
        f = np.array([[float(fn(k)) for fn in fns] for k in range(n + 1)])
        return ChainMaps.factor(self, f, n, groups, restart=(f[0], np.zeros(groups)))

    def _restarted(self, ctx: Ctx, since: Any, base: Any, previous: Any) -> Any:
        # torch's _update_lr(0) has no closed form here: it multiplies the lr the previous
        # child left by lr_lambda(0).
        first = tuple(float(fn(0)) for fn in self._fns())
        first_value = first if isinstance(self.lr_lambda, tuple) else first[0]
        return ctx.const(previous) * ctx.const(first_value) * self._factor(ctx, since)

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {
            "base_lr": per_group(scheduler.base_lrs),
            "lr_lambda": lambdas(scheduler.lr_lambdas),
        }
