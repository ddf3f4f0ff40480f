"""optax adapters: lrfun schedules and the plateau machine inside optax optimizers.

Every lrfun schedule already is an optax schedule (``optax.sgd(learning_rate=schedule)``: it
takes optax's int32 count, traced, and returns JAX's default float). This module adds what a
bare callable cannot express: ``inject`` wires a schedule's lr *and* its cycled momentum
(SGD's ``momentum``, the Adam family's ``b1``) into an optax optimizer through
``optax.inject_hyperparams``, so both show in the optimizer state; it also takes a
metric-driven machine (ReduceLROnPlateau, transformers' GreedyLR), whose lr then follows the
``value=`` passed to ``update``. ``reduce_on_plateau`` is such a machine as a
transformation to chain after an optimizer. ``check_state`` checks the machine states in
an optimizer state restored from a checkpoint before it is used (optax's own ``update`` runs
traced, where values cannot be checked).

The count optax passes is the number of updates already applied, so update ``k`` uses
``schedule(k)``: the lr torch's optimizer uses after ``k`` scheduler steps.

optax's schedule factories are here too, under optax's names and with optax's arguments
(``lrfun.optax.warmup_cosine_decay_schedule(0.0, 0.1, 100, 1000)``), each returning the
lrfun schedule equal to optax's at every step (the ``optax.`` family: configs, specs,
plots and both adapters, like every lrfun schedule).

This module imports jax and optax; ``import lrfun`` does not.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, cast

try:
    import jax
    import jax.numpy as jnp
    import optax
except ModuleNotFoundError as error:  # the hint, where a bare "No module named" would be
    if error.name not in ("jax", "optax"):
        raise
    raise ModuleNotFoundError(
        f"lrfun.optax needs {error.name}, which is not installed: pip install 'lrfun[jax]'",
        name=error.name,
    ) from error

from lrfun import _validate as check
from lrfun._optax_family import (
    ConstantSchedule,
    CosineDecaySchedule,
    CosineOnecycleSchedule,
    ExponentialDecay,
    JoinSchedules,
    LinearOnecycleSchedule,
    LinearSchedule,
    PiecewiseConstantSchedule,
    PiecewiseInterpolateSchedule,
    PolynomialSchedule,
    WarmupConstantSchedule,
    WarmupCosineDecaySchedule,
    WarmupExponentialDecaySchedule,
    constant_schedule,
    cosine_decay_schedule,
    cosine_onecycle_schedule,
    exponential_decay,
    join_schedules,
    linear_onecycle_schedule,
    linear_schedule,
    piecewise_constant_schedule,
    piecewise_interpolate_schedule,
    polynomial_schedule,
    sgdr_schedule,
    warmup_constant_schedule,
    warmup_cosine_decay_schedule,
    warmup_exponential_decay_schedule,
)
from lrfun._plateau import Machine
from lrfun._schedule import Schedule

__all__ = [
    "ConstantSchedule",
    "CosineDecaySchedule",
    "CosineOnecycleSchedule",
    "ExponentialDecay",
    "JoinSchedules",
    "LinearOnecycleSchedule",
    "LinearSchedule",
    "PiecewiseConstantSchedule",
    "PiecewiseInterpolateSchedule",
    "PolynomialSchedule",
    "WarmupConstantSchedule",
    "WarmupCosineDecaySchedule",
    "WarmupExponentialDecaySchedule",
    "check_state",
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "inject",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "reduce_on_plateau",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]

# The name each optax optimizer gives the quantity torch's schedulers cycle as momentum.
_MOMENTUM_NAMES = ("momentum", "b1")

_MACHINE = "an lrfun.ReduceLROnPlateau or GreedyLR"  # what a plateau argument must be


def inject(
    optimizer: Callable[..., optax.GradientTransformation],
    schedule: Schedule | Machine[Any],
    *,
    group: int | None = None,
    **hyperparams: Any,
) -> optax.GradientTransformationExtraArgs:
    """An optax optimizer whose lr (and momentum / b1) follow an lrfun schedule or plateau.

    The values of every step show in the state, as ``optax.inject_hyperparams`` records
    them: ``state.hyperparams["learning_rate"]`` (and ``["momentum"]`` or ``["b1"]``) hold
    what the last update used.

    Args:
      optimizer: an optax optimizer factory taking ``learning_rate`` (``optax.sgd``,
        ``optax.adam``, ``optax.adamw``, ...).
      schedule: an lrfun schedule, or a metric-driven machine
        (``lrfun.ReduceLROnPlateau``, transformers' GreedyLR) -- then every ``update``
        needs ``value=`` (the metric torch's ``scheduler.step`` would get) and the lr it
        decides applies from the next update, as in torch; a state restored from a
        checkpoint goes through [``check_state``][lrfun.optax.check_state] first.
      group: for a schedule with one value per param group, the group to follow (optax
        gives each group its own optimizer, e.g. through ``optax.multi_transform``).
      **hyperparams: the optimizer's other arguments (numbers or schedules). When the
        schedule cycles momentum it sets ``momentum`` (SGD, RMSprop) or ``b1`` (Adam family)
        itself; passing that argument too is an error.

    Returns:
      The ``GradientTransformationExtraArgs``.

    Raises:
      TypeError: ``optimizer`` takes no ``learning_rate``, or ``schedule`` is not an lrfun
        schedule or plateau.
      ValueError: the schedule cycles momentum and the optimizer has no ``momentum`` or
        ``b1``; momentum given twice; ``group`` missing or out of range.

    Example:
      >>> import jax.numpy as jnp, optax, lrfun, lrfun.optax
      >>> opt = lrfun.optax.inject(optax.sgd, lrfun.OneCycleLR(0.1, total_steps=100))
      >>> state = opt.init(jnp.zeros(2))
      >>> _, state = opt.update(jnp.ones(2), state)
      >>> sorted(state.hyperparams)
      ['learning_rate', 'momentum']
    """
    names = _parameters(optimizer)
    if "learning_rate" not in names:
        raise TypeError(
            f"optimizer must take a learning_rate argument; {check._shown(optimizer)} does not"
        )
    if isinstance(schedule, Machine):
        hyperparams["learning_rate"] = _PlateauSchedule(schedule, _group(schedule, group))
        return optax.inject_hyperparams(optimizer)(**hyperparams)
    words = "an lrfun schedule, ReduceLROnPlateau or GreedyLR"
    index = _group(check.instance("schedule", schedule, Schedule, words), group)
    hyperparams["learning_rate"] = _follow(schedule, index)
    if schedule.cycles_momentum:
        name = next((n for n in _MOMENTUM_NAMES if n in names), None)
        if name is None:
            raise ValueError(
                f"the schedule cycles momentum, but {_name(optimizer)} has neither a momentum "
                "nor a b1 argument (pass cycle_momentum=False)"
            )
        if hyperparams.get(name) is not None:
            raise ValueError(
                f"{name}={check._shown(hyperparams[name])} given, but the schedule cycles "
                f"{name} itself"
            )
        hyperparams[name] = _follow(schedule.momentum, index)
    return optax.inject_hyperparams(optimizer)(**hyperparams)


def reduce_on_plateau(
    plateau: Machine[Any], *, group: int | None = None
) -> optax.GradientTransformationExtraArgs:
    """torch's ReduceLROnPlateau (or transformers' GreedyLR) as an optax transformation:
    scales updates by lr / base_lr.

    Chain it after an optimizer built with the plateau's ``base_lr``:
    ``optax.chain(optax.sgd(base_lr), reduce_on_plateau(plateau))``. Each
    ``update(updates, state, params, value=metric)`` scales the updates by the current lr
    over ``base_lr``, *then* steps the plateau with ``metric``, so a cut applies from the next
    update -- as torch's ``scheduler.step(loss)`` after ``optimizer.step()``. (optax's own
    ``contrib.reduce_on_plateau`` cuts one update earlier and has no ``mode='max'``.) The
    state is the machine's (a ``lrfun.PlateauState``, or a GreedyLR's ``GreedyState``),
    in JAX's default float; ``state.lr`` is the lr. A GreedyLR's lr may also rise above
    ``base_lr`` (the updates are then scaled up), and after a reset it is ``base_lr`` again.
    A state restored from a checkpoint goes through ``check_state`` first.

    Args:
      plateau: the [``lrfun.ReduceLROnPlateau``][lrfun.ReduceLROnPlateau] or GreedyLR.
      group: for a plateau with one lr per param group, the group this transformation
        serves.

    Returns:
      The ``GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax, lrfun, lrfun.optax
      >>> p = lrfun.ReduceLROnPlateau(0.5, patience=0)
      >>> opt = optax.chain(optax.sgd(0.5), lrfun.optax.reduce_on_plateau(p))
      >>> state = opt.init(jnp.zeros(1))
      >>> for loss in [1.0, 1.0, 1.0]:
      ...     updates, state = opt.update(jnp.ones(1), state, value=loss)
      >>> round(float(updates[0]), 6), round(float(state[1].lr), 6)  # float32
      (-0.05, 0.005)
    """
    index = _group(check.instance("plateau", plateau, Machine, _MACHINE), group)
    base = (
        plateau.base_lr
        if index is None or not isinstance(plateau.base_lr, tuple)
        else (plateau.base_lr[index])
    )

    def init_fn(params: Any) -> Any:
        del params
        return plateau.init(like=jnp.zeros(()))

    def update_fn(
        updates: Any, state: Any, params: Any = None, *, value: Any, **extra: Any
    ) -> tuple[Any, Any]:
        del params, extra
        lr = _pick(state.lr, index)
        # A zero base lr stays zero (a cut from 0 changes nothing): scale by 0, not 0/0.
        scale = lr / base if base > 0 else jnp.zeros_like(lr)
        updates = jax.tree.map(lambda u: (u * scale).astype(u.dtype), updates)
        return updates, plateau.update(state, value)

    # update_fn requires the value= extra argument, which optax's protocol cannot say.
    return optax.GradientTransformationExtraArgs(
        init_fn, cast("optax.TransformUpdateExtraArgsFn", update_fn)
    )


def check_state(plateau: Machine[Any], state: Any) -> Any:
    """Checks the machine states in an optimizer state restored from a checkpoint.

    ``update`` runs traced (under ``jit``), where a corrupt value cannot be refused: a NaN
    ``best`` would never be improved on again, a NaN or negative lr would be applied, a
    negative count would delay the next cut, an int8 count would wrap (patience 200 is -56
    there: a cut at every update). So a state that comes back from disk goes through this
    check once, on the host, before it is used, in the dtypes JAX will run it in (float64
    and int64 values become float32 and int32 without x64); every state of the machine's
    type in it (a [``lrfun.PlateauState``][lrfun.PlateauState], or a GreedyLR's ``GreedyState``) --
    ``reduce_on_plateau``'s, or ``inject``'s under ``hyperparams_states`` -- must
    fit ``plateau``. The check is the machine's own ``check_state``, which the torch adapter's
    ``load_state_dict`` runs too.

    Args:
      plateau: the ``lrfun.ReduceLROnPlateau`` or GreedyLR the state is for.
      state: a whole optimizer state (any pytree holding machine states), or one machine
        state, with concrete values (JAX or NumPy arrays, or Python numbers).

    Returns:
      ``state``, unchanged.

    Raises:
      TypeError: ``plateau`` is not a metric-driven machine; a field is traced, or of the
        wrong kind (an lr or ``best`` that is not floating, a count that is not an integer,
        or of a dtype narrower than 32 bits).
      ValueError: ``state`` holds no state of the machine's type; a field has the wrong
        shape (``lr`` not one value, or one per param group, as ``plateau.init()`` has), an
        lr is negative or not finite, ``best`` is NaN, a finite value is past what its dtype
        holds (an lr of 1e39 as float32), or a count is out of range (``last_epoch`` past
        2**53 or its dtype's largest value, the other counters past 2**31 - 2 or their own
        bound).

    Example:
      >>> import pickle, jax, jax.numpy as jnp, optax, lrfun, lrfun.optax
      >>> p = lrfun.ReduceLROnPlateau(0.5)
      >>> opt = optax.chain(optax.sgd(0.5), lrfun.optax.reduce_on_plateau(p))
      >>> saved = pickle.dumps(jax.device_get(opt.init(jnp.zeros(1))))
      >>> state = lrfun.optax.check_state(p, pickle.loads(saved))
      >>> bad = state[1]._replace(best=jnp.nan)
      >>> lrfun.optax.check_state(p, bad)
      Traceback (most recent call last):
      ...
      ValueError: state.best must be a number (not NaN), got nan
    """
    kind = check.instance("plateau", plateau, Machine, _MACHINE).state_type
    found = jax.tree_util.tree_flatten_with_path(
        state, is_leaf=lambda node: isinstance(node, kind)
    )[0]
    states = [(path, node) for path, node in found if isinstance(node, kind)]
    if not states:
        raise ValueError(
            f"state holds no lrfun.{kind.__name__} (got a {type(state).__name__}): it is not "
            "the state of an optimizer built with this machine"
        )
    for path, node in states:
        where = f"state{jax.tree_util.keystr(path)}".replace("{", "{{").replace("}", "}}")
        # Checked in the dtypes the jitted update will run it in: without x64, a float64 lr
        # of 1e39 is float32 inf there, and an int64 count of 2**31 wraps.
        plateau.check_state(node, label=where + ".{}", runs_in=jax.dtypes.canonicalize_dtype)
    return state


class _PlateauSchedule:
    """The plateau as an optax stateful schedule: the lr its state holds, stepped by the
    ``value`` extra argument after the update that used it."""

    def __init__(self, plateau: Machine[Any], index: int | None) -> None:
        self.plateau = plateau
        self.index = index

    def init(self) -> Any:
        return self.plateau.init(like=jnp.zeros(()))

    def update(self, state: Any, **extra_args: Any) -> Any:
        if "value" not in extra_args:
            raise TypeError(f"a {type(self.plateau).__name__} lr needs update(..., value=metric)")
        return self.plateau.update(state, extra_args["value"])

    def __call__(self, state: Any, **extra_args: Any) -> Any:
        del extra_args
        return _pick(state.lr, self.index)


def _select(fn: Callable[[Any], Any], index: int, count: Any) -> Any:
    return fn(count)[..., index]


def _follow(fn: Callable[[Any], Any], index: int | None) -> Callable[[Any], Any]:
    return fn if index is None else functools.partial(_select, fn, index)


def _pick(values: Any, index: int | None) -> Any:
    return values if index is None else values[index]


def _group(owner: Schedule | Machine[Any], group: int | None) -> int | None:
    groups = owner.groups
    if groups is None:
        if group is not None:
            raise ValueError(f"group={group!r} given, but {owner!r} has one value for all groups")
        return None
    if group is None:
        raise ValueError(
            f"the schedule has values for {groups} param groups: pass group= (0 to {groups - 1})"
        )
    return check.index("group", group, groups)


def _parameters(optimizer: Callable[..., Any]) -> frozenset[str]:
    if not callable(optimizer):
        raise TypeError(
            f"optimizer must be an optax optimizer factory, got {check._shown(optimizer)}"
        )
    try:
        return frozenset(inspect.signature(optimizer).parameters)
    except (TypeError, ValueError):
        raise TypeError(f"cannot read the arguments of {check._shown(optimizer)}") from None


def _name(optimizer: Callable[..., Any]) -> str:
    return getattr(optimizer, "__qualname__", repr(optimizer))
