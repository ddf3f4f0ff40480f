"""optax adapters: lrfun schedules and the plateau machine inside optax optimizers.

Every lrfun schedule already is an optax schedule (``optax.sgd(learning_rate=schedule)``: it
takes optax's int32 count, traced, and returns JAX's default float). This module adds what a
bare callable cannot express: :func:`inject` wires a schedule's lr *and* its cycled momentum
(SGD's ``momentum``, the Adam family's ``b1``) into an optax optimizer through
``optax.inject_hyperparams``, so both show in the optimizer state; it also takes a
ReduceLROnPlateau, whose lr then follows the ``value=`` passed to ``update``.
:func:`reduce_on_plateau` is the plateau as a transformation to chain after an optimizer.
:func:`check_state` checks the plateau states in an optimizer state restored from a
checkpoint before it is used (optax's own ``update`` runs traced, where values cannot be
checked).

The count optax passes is the number of updates already applied, so update ``k`` uses
``schedule(k)``: the lr torch's optimizer uses after ``k`` scheduler steps.

This module imports jax and optax; ``import lrfun`` does not.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from lrfun import _validate as check
from lrfun._plateau import _COUNTER_MAX, PlateauState, ReduceLROnPlateau
from lrfun._schedule import Schedule

__all__ = ["check_state", "inject", "reduce_on_plateau"]

# The name each optax optimizer gives the quantity torch's schedulers cycle as momentum.
_MOMENTUM_NAMES = ("momentum", "b1")

# The largest update count a plateau state may hold (the torch adapter's largest step):
# exact in float64, and far from wrapping in int64. The other counters stay where the plateau
# machine keeps them (int32 on JAX).
_MAX_STEP = 2**53


def inject(
    optimizer: Callable[..., optax.GradientTransformation],
    schedule: Schedule | ReduceLROnPlateau,
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
      schedule: an lrfun schedule, or an :class:`lrfun.ReduceLROnPlateau` -- then every
        ``update`` needs ``value=`` (the metric torch's ``scheduler.step`` would get) and
        the cut applies from the next update, as in torch; a state restored from a checkpoint
        goes through :func:`check_state` first.
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
        raise TypeError(f"optimizer must take a learning_rate argument; {optimizer!r} does not")
    if isinstance(schedule, ReduceLROnPlateau):
        hyperparams["learning_rate"] = _PlateauSchedule(schedule, _group(schedule, group))
        return optax.inject_hyperparams(optimizer)(**hyperparams)
    if not isinstance(schedule, Schedule):
        raise TypeError(
            f"schedule must be an lrfun schedule or ReduceLROnPlateau, got {schedule!r}"
        )
    index = _group(schedule, group)
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
                f"{name}={hyperparams[name]!r} given, but the schedule cycles {name} itself"
            )
        hyperparams[name] = _follow(schedule.momentum, index)
    return optax.inject_hyperparams(optimizer)(**hyperparams)


def reduce_on_plateau(
    plateau: ReduceLROnPlateau, *, group: int | None = None
) -> optax.GradientTransformationExtraArgs:
    """torch's ReduceLROnPlateau as an optax transformation: scales updates by lr / base_lr.

    Chain it after an optimizer built with the plateau's ``base_lr``:
    ``optax.chain(optax.sgd(base_lr), reduce_on_plateau(plateau))``. Each
    ``update(updates, state, params, value=metric)`` scales the updates by the current lr
    over ``base_lr``, *then* steps the plateau with ``metric``, so a cut applies from the next
    update -- as torch's ``scheduler.step(loss)`` after ``optimizer.step()``. (optax's own
    ``contrib.reduce_on_plateau`` cuts one update earlier and has no ``mode='max'``.) The
    state is the :class:`lrfun.PlateauState`, in JAX's default float; ``state.lr`` is the lr.
    A state restored from a checkpoint goes through :func:`check_state` first.

    Args:
      plateau: the :class:`lrfun.ReduceLROnPlateau`.
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
    if not isinstance(plateau, ReduceLROnPlateau):
        raise TypeError(f"plateau must be an lrfun.ReduceLROnPlateau, got {plateau!r}")
    index = _group(plateau, group)
    base = (
        plateau.base_lr
        if index is None or not isinstance(plateau.base_lr, tuple)
        else (plateau.base_lr[index])
    )

    def init_fn(params: Any) -> PlateauState:
        del params
        return plateau.init(like=jnp.zeros(()))

    def update_fn(
        updates: Any, state: PlateauState, params: Any = None, *, value: Any, **extra: Any
    ) -> tuple[Any, PlateauState]:
        del params, extra
        lr = _pick(state.lr, index)
        # A zero base lr stays zero (a cut from 0 changes nothing): scale by 0, not 0/0.
        scale = lr / base if base > 0 else jnp.zeros_like(lr)
        updates = jax.tree.map(lambda u: (u * scale).astype(u.dtype), updates)
        return updates, plateau.update(state, value)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def check_state(plateau: ReduceLROnPlateau, state: Any) -> Any:
    """Checks the plateau states in an optimizer state restored from a checkpoint.

    ``update`` runs traced (under ``jit``), where a corrupt value cannot be refused: a NaN
    ``best`` would never be improved on again, a NaN or negative lr would be applied, a
    negative count would delay the next cut. So a state that comes back from disk goes
    through this check once, on the host, before it is used; every
    :class:`lrfun.PlateauState` in it -- :func:`reduce_on_plateau`'s, or :func:`inject`'s
    under ``hyperparams_states`` -- must fit ``plateau``.

    Args:
      plateau: the :class:`lrfun.ReduceLROnPlateau` the state is for.
      state: a whole optimizer state (any pytree holding PlateauStates), or one
        PlateauState, with concrete values (JAX or NumPy arrays, or Python numbers).

    Returns:
      ``state``, unchanged.

    Raises:
      TypeError: ``plateau`` is not an lrfun.ReduceLROnPlateau; a field is traced, or of the
        wrong kind (an lr or ``best`` that is not floating, a count that is not an integer).
      ValueError: ``state`` holds no PlateauState; a field has the wrong shape (``lr`` not
        one value, or one per param group, as ``plateau.init()`` has), an lr is negative or
        not finite, ``best`` is NaN, or a count is out of range (``last_epoch`` past 2**53
        or its dtype's largest value, the other two past 2**31 - 2).

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
    if not isinstance(plateau, ReduceLROnPlateau):
        raise TypeError(f"plateau must be an lrfun.ReduceLROnPlateau, got {plateau!r}")
    found = jax.tree_util.tree_flatten_with_path(
        state, is_leaf=lambda node: isinstance(node, PlateauState)
    )[0]
    states = [(path, node) for path, node in found if isinstance(node, PlateauState)]
    if not states:
        raise ValueError(
            f"state holds no lrfun.PlateauState (got a {type(state).__name__}): it is not "
            "the state of an optimizer built with this plateau"
        )
    shape = np.shape(plateau.init().lr)
    for path, node in states:
        _check_plateau_state(f"state{jax.tree_util.keystr(path)}", node, shape)
    return state


def _check_plateau_state(where: str, state: PlateauState, shape: tuple[int, ...]) -> None:
    """Refuses a PlateauState whose fields a plateau machine of lr shape ``shape`` cannot
    have reached, naming the field."""
    fields = {name: _host(f"{where}.{name}", value) for name, value in state._asdict().items()}
    for name in ("lr", "best"):
        if not np.issubdtype(fields[name].dtype, np.floating):
            raise TypeError(
                f"{where}.{name} must be floating, got dtype {fields[name].dtype}: "
                f"{_short(fields[name])}"
            )
    if fields["lr"].shape != shape:
        raise ValueError(
            f"{where}.lr must have shape {shape} (one lr{' per param group' if shape else ''}), "
            f"got shape {fields['lr'].shape}"
        )
    bad = fields["lr"][~(np.isfinite(fields["lr"]) & (fields["lr"] >= 0))]
    if bad.size:
        raise ValueError(f"{where}.lr must be finite and >= 0, got {float(bad.flat[0])!r}")
    # +-inf is a real best (the mode's worst before any metric, or an infinite metric); NaN
    # would never be improved on, so the lr could never be cut again.
    best = fields["best"]
    if best.shape != ():
        raise ValueError(f"{where}.best must be one number, got shape {best.shape}")
    if math.isnan(float(best)):
        raise ValueError(f"{where}.best must be a number (not NaN), got nan")
    for name in ("num_bad_epochs", "cooldown_counter", "last_epoch"):
        count = fields[name]
        if not np.issubdtype(count.dtype, np.integer):
            raise TypeError(
                f"{where}.{name} must be an integer, got dtype {count.dtype}: {_short(count)}"
            )
        if count.shape != ():
            raise ValueError(f"{where}.{name} must be one integer, got shape {count.shape}")
        top = _MAX_STEP if name == "last_epoch" else _COUNTER_MAX
        top = min(top, int(np.iinfo(count.dtype).max))
        if not 0 <= int(count) <= top:
            raise ValueError(f"{where}.{name} must be in [0, {top}], got {int(count)}")


def _host(where: str, value: Any) -> np.ndarray:
    """A field's concrete value as a NumPy array (a traced one has none to check)."""
    if isinstance(value, jax.core.Tracer):
        raise TypeError(
            f"{where} is traced: check_state needs concrete values (call it on the restored "
            "state, outside jit)"
        )
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"{where} must be a number or an array, got {_short(value)}")
    try:
        return np.asarray(jax.device_get(value))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where} must be a number or an array, got {_short(value)}") from error


def _short(value: Any) -> str:
    return check._shown(value)  # a huge value cut, as every argument check shows it


class _PlateauSchedule:
    """The plateau as an optax stateful schedule: the lr its state holds, stepped by the
    ``value`` extra argument after the update that used it."""

    def __init__(self, plateau: ReduceLROnPlateau, index: int | None) -> None:
        self.plateau = plateau
        self.index = index

    def init(self) -> PlateauState:
        return self.plateau.init(like=jnp.zeros(()))

    def update(self, state: PlateauState, **extra_args: Any) -> PlateauState:
        if "value" not in extra_args:
            raise TypeError("a ReduceLROnPlateau lr needs update(..., value=metric)")
        return self.plateau.update(state, extra_args["value"])

    def __call__(self, state: PlateauState, **extra_args: Any) -> Any:
        del extra_args
        return _pick(state.lr, self.index)


def _select(fn: Callable[[Any], Any], index: int, count: Any) -> Any:
    return fn(count)[..., index]


def _follow(fn: Callable[[Any], Any], index: int | None) -> Callable[[Any], Any]:
    return fn if index is None else functools.partial(_select, fn, index)


def _pick(values: Any, index: int | None) -> Any:
    return values if index is None else values[index]


def _group(owner: Schedule | ReduceLROnPlateau, group: int | None) -> int | None:
    groups = owner.groups
    if groups is None:
        if group is not None:
            raise ValueError(f"group={group!r} given, but {owner!r} has one value for all groups")
        return None
    if group is None:
        raise ValueError(
            f"the schedule has values for {groups} param groups: pass group= (0 to {groups - 1})"
        )
    if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < groups:
        raise ValueError(f"group must be an integer in [0, {groups}), got {group!r}")
    return group


def _parameters(optimizer: Callable[..., Any]) -> frozenset[str]:
    if not callable(optimizer):
        raise TypeError(f"optimizer must be an optax optimizer factory, got {optimizer!r}")
    try:
        return frozenset(inspect.signature(optimizer).parameters)
    except (TypeError, ValueError):
        raise TypeError(f"cannot read the arguments of {optimizer!r}") from None


def _name(optimizer: Callable[..., Any]) -> str:
    return getattr(optimizer, "__qualname__", repr(optimizer))
