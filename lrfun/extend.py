"""The extension contract: a schedule defined in your own module works with every lrfun tool.

Define a frozen dataclass that subclasses ``Schedule``, name its reference, and import
your module: the class registers under ``_namespace + class name`` (``"mylib.InverseSqrtLR"``)
and then works, with no edit to lrfun, with configs and specs (``lrfun.from_config``,
``lrfun show "mylib.InverseSqrtLR(0.1)"``), both adapters (``lrfun.torch.Scheduler``,
``lrfun.optax.inject``), ``lrfun.plot.plot`` and ``lrfun plot --torch`` (the
verdict names your reference), ``lrfun.from_torch`` of your reference's objects, the
parity harness ([``parity.torch_trajectory``][parity.torch_trajectory], ``parity.report.check``,
``parity.strategies.configs``) and JAX (``jit``, ``vmap``: it is a pytree).

What a schedule class gives (``docs/adding-a-schedule.md`` walks through one):

==========================  ====================================================================
``_namespace``              where its name lives: one identifier and a dot (``"mylib."``)
fields, ``__post_init__``   its arguments, checked with ``check`` (errors name the argument
                            and the value), normalised with ``self._set(...)``; ``_groups``
                            from ``check.group_count`` for per-group lrs
``_lr(ctx, step)``          the closed form, once, on the array API (``ctx.xp``): no Python
                            branch on values, no loop over steps
``_hyperparameters``        its float arguments: the JAX pytree leaves (the rest is static;
                            a float that places phase boundaries is named in
                            ``_static_floats``)
``_reference``              a ``LiveScheduler`` (a scheduler class on a torch optimizer:
                            torch's, a library's, your own ``LRScheduler`` subclass) or a
                            ``FunctionReference`` (a function of the step)
==========================  ====================================================================

Optional: ``_from_torch`` / ``_torch_attributes`` (read a live object back: by default its
``base_lrs`` and the attributes of the same names), ``_torch_object`` (a live object built
from other arguments), ``_lr_arguments`` (lr-valued arguments besides ``base_lr``),
``_course_changes`` (steps a plot marks), ``_gallery`` (a representative spec),
``_strategy`` (a classmethod returning a Hypothesis strategy of configs, which
``parity.strategies.configs`` then draws from) and, for a schedule torch's
ChainedScheduler may combine, ``chain``/``_factor``/``_chain_maps`` (torch's ``get_lr`` at
the own epochs it is given, as ``ChainMaps`` of the lr; ``epoch_grid`` lays them
out per group).

>>> import dataclasses
>>> from lrfun.extend import Ctx, FunctionReference, Schedule, check
>>> @dataclasses.dataclass(frozen=True)
... class HalvingLR(Schedule):
...     _namespace = "doc."
...     _reference = FunctionReference("formula", lambda s, k: s.base_lr * 0.5**k)
...     _hyperparameters = ("base_lr",)
...     base_lr: float
...     def __post_init__(self) -> None:
...         self._set(base_lr=check.real("base_lr", self.base_lr, low=0.0), _groups=None)
...     def _lr(self, ctx: Ctx, step):
...         return ctx.const(self.base_lr) * 0.5 ** ctx.float(step)
>>> HalvingLR(1.0)(3)
0.125
>>> import lrfun
>>> lrfun.from_config({"name": "doc.HalvingLR", "base_lr": 2.0})(1)
1.0
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Sequence

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._chain import ChainMaps, epoch_grid
from lrfun._reference import TORCH, FunctionReference, LiveScheduler, Reference, Trajectory
from lrfun._schedule import Configurable, Schedule, classes, names, registered

__all__ = [
    "ENTRY_POINTS",
    "TORCH",
    "ChainMaps",
    "Configurable",
    "Ctx",
    "FunctionReference",
    "LiveScheduler",
    "Reference",
    "Schedule",
    "Trajectory",
    "check",
    "classes",
    "epoch_grid",
    "import_schedules",
    "names",
    "registered",
]

# Installed libraries name the modules that define their schedules under this entry-point
# group: the ``lrfun`` command and ``python -m parity`` import them, so their specs work
# like lrfun's own.
ENTRY_POINTS = "lrfun.schedules"


def import_schedules(modules: Sequence[str] = ()) -> None:
    """Imports the modules that define a library's schedules (their classes register
    themselves): every ``lrfun.schedules`` entry point, then ``modules`` (found on
    ``sys.path`` or in the current directory).

    Raises:
      ImportError: naming the module or entry point that failed, and why.
    """
    for entry in importlib.metadata.entry_points(group=ENTRY_POINTS):
        try:
            entry.load()
        except Exception as e:
            raise ImportError(f"entry point {entry.name} = {entry.value} fails: {e}") from None
    # The current directory is searched while these import, and only then: later imports
    # (torch, matplotlib) must not find a file of the same name there.
    added = bool(modules) and os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception as e:
                raise ImportError(f"module {module}: {type(e).__name__}: {e}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
