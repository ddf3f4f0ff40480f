"""The Schedule base: an immutable description whose ``__call__`` is a pure function of the step.

A schedule class is the one home of everything known about its schedule: its closed form
(``_lr``, ``_momentum``), torch's chainable update (``_chain_maps``) and how that combines in
a ChainedScheduler (``chain``), the steps where its course changes (``_course_changes``), how
it is read off a live torch scheduler (``_from_torch``) and a gallery example. Composites, the
plot, the spec grammar and [``from_torch``][lrfun.from_torch] ask the class; the registry of names
below is filled by the classes as they are defined.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import keyword
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

import numpy as np

from lrfun._backend import Ctx, device_of, evaluate, evaluate_scalar, namespace
from lrfun._chain import ChainMaps, Node, Shared, Single
from lrfun._reference import LiveScheduler, Reference, broadcast, check_base, start_groups

if TYPE_CHECKING:
    import jax
    import torch

    from lrfun._backend import NumPyStep, NumPyValues, Step

__all__ = [
    "Cache",
    "Configurable",
    "Schedule",
    "classes",
    "from_config",
    "is_own",
    "lambdas",
    "names",
    "per_group",
    "registered",
]


def per_group(values: Sequence[Any]) -> Any:
    """One group: the scalar; several: a tuple (lrfun's per-group form)."""
    floats = [float(v) for v in values]
    return floats[0] if len(floats) == 1 else tuple(floats)


def lambdas(fns: Sequence[Any]) -> Any:
    """One function shared by every group: that function; else the list of them."""
    return fns[0] if all(fn is fns[0] for fn in fns) else list(fns)

_REGISTRY: dict[str, type[Configurable]] = {}
_pytrees: set[type[Configurable]] = set()  # classes to register with JAX
# Each class's keyword arguments (None: it takes any), read on its first keyword call.
_KEYWORDS: dict[type, frozenset[str] | None] = {}


_MISSING = object()


class Cache:
    """Host values a schedule's definition fixes, each built on first use (``get``).

    The one mutable object a schedule may hold, made in its constructor: filling it never
    changes what the schedule computes, only how soon. Every lazily built table of a
    schedule lives here, so one lock makes them all thread-safe: a value is built once,
    under the cache's lock, while other threads wait for it (a value extended after it is
    built -- a simulation -- holds a lock of its own). A copy (a pickle, ``copy.deepcopy``, a
    JAX pytree rebuilt) starts empty and rebuilds what it needs from the definition: what a
    cache holds (locks, simulations of user functions) need not survive pickling, and a
    half-built value must not be copied into another schedule.
    """

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        # Reentrant: a build may ask the same cache for another of its values.
        self._lock = threading.RLock()

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        """The value under ``key``, built by ``build()`` if no thread has built it yet."""
        # A value once stored is never replaced, and reading a dict is atomic: a built value
        # is read without the lock (which torch.compile cannot trace, and readers need not
        # wait for).
        value = self._values.get(key, _MISSING)
        if value is not _MISSING:
            return value
        with self._lock:
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._values

    def __reduce__(self) -> tuple[Any, ...]:
        return (Cache, ())

    def __deepcopy__(self, memo: dict[int, Any]) -> Cache:
        return Cache()


@dataclasses.dataclass(frozen=True)
class Configurable:
    """An immutable object described by its constructor arguments (a frozen dataclass whose
    init fields are the arguments): ``to_config()`` / ``from_config`` round-trip it.

    Subclasses are registered under their class name (the name torch gives the scheduler),
    prefixed by their family's ``_namespace`` (``"hf."`` for transformers' schedules, your
    library's ``"mylib."``), unless defined with ``register=False``. That name is the
    ``"name"`` of their configs and specs; registering a second class under a taken name is a
    ``ValueError``.
    """

    # Spelled out, as every derived field: type checkers know a field only by
    # dataclasses.field itself, and would read a helper's result as a default (an argument).
    _groups: int | None = dataclasses.field(init=False, repr=False, compare=False)
    # What an object finds once, on first use, about itself (whether a Python int evaluates
    # on Python numbers, a composite's initial lrs): made with the object, never changing
    # what it computes.
    _memo: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )

    # Where the class's name lives: "" for torch's schedulers, "hf." for transformers', one
    # identifier and a dot for a library's own.
    _namespace: ClassVar[str] = ""
    # The registered name (set for every subclass): configs, specs and reprs use it.
    _name: ClassVar[str] = ""
    # What the class is proven against (lrfun.extend.LiveScheduler / FunctionReference):
    # the parity harness runs it, plots and the CLI name it, from_torch reads its objects.
    _reference: ClassVar[Reference | None] = None
    # A metric-driven machine (stepped with a metric) rather than a function of the step.
    _metric_driven: ClassVar[bool] = False
    # Constructing the live scheduler sets the optimizer's lrs itself (from its own lr
    # arguments), where the others take the optimizer's lr as their base.
    sets_lrs: ClassVar[bool] = False
    # The lr-valued arguments: the largest sets the scale of the absolute tolerance (an
    # argument a schedule does not have counts for nothing).
    _lr_arguments: ClassVar[tuple[str, ...]] = ("base_lr", "start_lr")

    # The float hyperparameters: the leaves of the schedule as a JAX pytree (a per-group
    # tuple gives one leaf per group). Every other field -- integers, modes, functions,
    # structure and what the constructor derived -- is static data.
    _hyperparameters: ClassVar[tuple[str, ...]] = ()
    # Float arguments that are structure, not leaves: they place phase boundaries or shape
    # what the constructor builds (OneCycleLR's pct_start), which a traced value could not
    # move. Static data, as integers are.
    _static_floats: ClassVar[tuple[str, ...]] = ()

    if not TYPE_CHECKING:
        # Hidden from type checkers, which read each class's arguments off its own __init__.

        def __new__(cls, *args, **kwargs):
            # Python's TypeError for a mistyped keyword names no alternative: here it names
            # the close ones. Known keywords cost a set lookup each; copies (pickle,
            # copy.deepcopy) and JAX's unflattening call __new__ with no arguments.
            if kwargs:
                taken = _KEYWORDS.get(cls, _MISSING)
                if taken is _MISSING:
                    taken = _keywords(cls)
                if taken is not None:
                    for key in kwargs:
                        if key not in taken:
                            raise TypeError(_unexpected_keyword(cls, key))
            self = super().__new__(cls)
            object.__setattr__(self, "_memo", Cache())
            return self

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Set before @dataclass runs, which then keeps it: the repr leaves lrfun's own
        # keyword options out while unset, as to_config does.
        cls.__repr__ = Configurable._repr  # type: ignore[assignment, method-assign]
        namespace = cls._namespace
        head = namespace[:-1]
        if namespace and not (
            namespace.endswith(".") and head.isidentifier() and not keyword.iskeyword(head)
        ):
            raise ValueError(
                f"{cls.__qualname__}._namespace must be one identifier (not a keyword) and a "
                f"dot ('mylib.'), got {namespace!r}"
            )
        cls._name = namespace + cls.__name__
        lrfun_module = cls.__module__.startswith("lrfun.")
        if register and namespace in _FAMILIES and not lrfun_module:
            # torch's names are torch's, hf.* are transformers': a library's class lives
            # under its own prefix (a subclass that is no schedule of its own: register=False).
            raise ValueError(
                f"{_where(cls)} needs a _namespace of its own ('mylib.'), got "
                f"{namespace!r}, lrfun's family of {_FAMILIES[namespace]}; a base class that is "
                "no schedule of its own is defined with register=False"
            )
        if register:
            taken = _REGISTRY.get(cls._name)
            # The same class defined again (a module reloaded) replaces itself.
            if taken is not None and _where(taken) != _where(cls):
                raise ValueError(
                    f"{cls._name} is already registered by {_where(taken)}; give "
                    f"{_where(cls)} another name or a _namespace of its own"
                )
            _REGISTRY[cls._name] = cls
            _pytrees.add(cls)
            if "jax" in sys.modules:
                _register_pytrees()

    def _repr(self) -> str:
        shown = (
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.repr and not (f.kw_only and f.default is None and getattr(self, f.name) is None)
        )
        return f"{self._name}({', '.join(shown)})"

    # -- a JAX pytree ---------------------------------------------------------------------

    def _tree_leaves(self) -> tuple[str, ...]:
        """The fields that are pytree children (the hyperparameters, by default)."""
        return self._hyperparameters

    def _tree_flatten(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        names = self._tree_leaves()
        static = tuple(
            (f.name, getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in names and not f.metadata.get("cache")
        )
        return tuple(getattr(self, name) for name in names), (names, static)

    @classmethod
    def _tree_unflatten(cls, aux: tuple[Any, ...], children: Any) -> Configurable:
        # As equinox does: no constructor (no checks) -- JAX rebuilds trees from tracers
        # and placeholders, and these values were checked when the schedule was built.
        names, static = aux
        self = object.__new__(cls)
        for name, value in (*static, *zip(names, children, strict=True)):
            object.__setattr__(self, name, value)
        for f in dataclasses.fields(self):
            if f.metadata.get("cache"):
                object.__setattr__(self, f.name, Cache())
        return self

    @property
    def groups(self) -> int | None:
        """The number of param groups (None when every lr-valued argument is a scalar)."""
        return self._groups

    def arguments(self) -> dict[str, Any]:
        """The constructor arguments, as given (callables included)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def to_config(self) -> dict[str, Any]:
        """A JSON-safe dict that ``from_config`` turns back into an equal object.

        Raises:
          TypeError: an argument is a Python callable (LambdaLR, MultiplicativeLR, a CyclicLR
            scale_fn), which a config cannot hold.
        """
        config: dict[str, Any] = {"name": self._name}
        # lrfun's own keyword options (horizon, start_lr) are left out while unset.
        unset = {f.name for f in dataclasses.fields(self) if f.kw_only and f.default is None}
        for name, value in self.arguments().items():
            if name in unset and value is None:
                continue
            if callable(value) or (isinstance(value, tuple) and any(callable(v) for v in value)):
                raise TypeError(
                    f"{self._name}.{name} is a Python callable, which a config cannot hold"
                )
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A copy (pickle, copy.deepcopy) gets the fields as they are and its caches empty
        # (Cache's own pickling): the tables its constructor builds ahead of any step are
        # built again, so a copy is ready wherever the original was (inside torch.compile,
        # which cannot build one).
        self.__dict__.update(state)
        self._build_tables()

    def _build_tables(self) -> None:
        """Builds the host tables traced steps read (none by default): at construction, and
        again in a copy."""

    def _set(self, **values: Any) -> None:
        # Normalised arguments and derived fields of a frozen dataclass, set once in
        # __post_init__: only declared fields, so nothing hides behind the dataclass.
        declared = {f.name for f in dataclasses.fields(self)}
        for name, value in values.items():
            if name not in declared:
                raise AttributeError(f"{type(self).__name__} declares no field {name!r}")
            object.__setattr__(self, name, value)

    # -- its live reference -------------------------------------------------------------

    @property
    def cycles_momentum(self) -> bool:
        """Whether the live scheduler writes momentum (SGD) or beta1 (Adam) every step."""
        return False

    @property
    def _initial_lr(self) -> Any:
        """The live scheduler's ``base_lrs`` (per group: a tuple): what its closed form and
        restarts scale, and what it sets ``initial_lr`` to when it is built first."""
        # Read from the instance (every evaluation of a composite reads it): a field's value.
        base = self.__dict__.get("base_lr", _NO_BASE)
        if base is _NO_BASE:
            raise TypeError(
                f"{self._name} has no base_lr argument: a schedule run on a torch optimizer "
                "names the optimizer's lr base_lr (or its class gives _initial_lr)"
            )
        return base

    def _leaves(self) -> tuple[Configurable, ...]:
        """The single schedules inside, in torch's construction order."""
        return (self,)

    def _lr_scale(self) -> float:
        """The largest lr-valued argument (``_lr_arguments``), children included."""
        values = [
            abs(float(v)) for name in self._lr_arguments for v in _flat(getattr(self, name, None))
        ]
        return max(values, default=0.0)

    def _live_arguments(self) -> dict[str, Any]:
        """The arguments of the live object: the constructor's, less the base lr where the
        optimizer holds it and lrfun's own keyword options (tuples as lists)."""
        options = {f.name for f in dataclasses.fields(self) if f.kw_only}
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in self.arguments().items()
            if name not in options and (name != "base_lr" or self.sets_lrs)
        }

    def _torch_object(self, optimizer: Any) -> Any:
        """The live scheduler of this schedule on ``optimizer`` (the reference's class with
        ``_live_arguments``); a class whose object takes other arguments overrides it."""
        reference = self._reference
        if not isinstance(reference, LiveScheduler):
            raise ValueError(
                f"{self._name} has no live scheduler to build on a torch optimizer (its "
                f"reference is {getattr(reference, 'name', None)!r})"
            )
        return reference.build(self, optimizer)

    def _live(self, optimizer: Any) -> Any:
        """The live scheduler, built on ``optimizer`` as the run this schedule describes
        met it: the groups hold ``start_lr`` where one is set, else the base lrs torch gives
        the scheduler must be this schedule's."""
        start = getattr(self, "start_lr", None)
        if start is not None:
            start_groups(optimizer, broadcast("start_lr", start, len(optimizer.param_groups)))
        elif not self.sets_lrs and not self._metric_driven:
            check_base(self, optimizer)
        return self._torch_object(optimizer)

    @classmethod
    def _set_torch_state(cls, scheduler: Any, state: dict[str, Any]) -> None:
        """Puts a live scheduler where the keyword options ``state`` say a stepped one
        stood (the inverse of what ``_from_torch`` reads): its attributes of those names."""
        for key, value in state.items():
            setattr(scheduler, key, value)

    @classmethod
    def _recognise(cls, obj: object) -> Configurable | None:
        """The schedule a live object is, where it is one of this class's reference (what
        [``lrfun.from_torch``][lrfun.from_torch] asks every registered class), else None."""
        reference = cls._reference
        if reference is None or not reference.holds(obj, cls):
            return None
        return cls(**cls._from_torch(obj))

    def _check_live(self, obj: Any) -> None:
        """Refuses (ValueError) a live object, read as this schedule by ``from_torch``, whose
        state the schedule does not describe (only a top-level object: a composite's child
        is its container's to say); warns where it stands somewhere the caller may not
        expect. By default every state of the object is one of the schedule's steps."""

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        """The constructor arguments read off a live object of this class's reference: by
        default its ``base_lrs`` and the attributes ``_torch_attributes`` names."""
        arguments = {"base_lr": per_group(scheduler.base_lrs)}
        arguments.update((name, getattr(scheduler, name)) for name in cls._torch_attributes)
        return arguments

    # The constructor arguments the live object keeps under the same attribute names (beside
    # base_lr, read from its base_lrs).
    _torch_attributes: ClassVar[tuple[str, ...]] = ()

    def _torch_steps(self) -> int | None:
        """The most steps torch's object can take (None: no limit)."""
        return None

    # What torch's object raises when stepped past ``_torch_steps()``: the exception type and
    # its message (``{step}``: the step, ``{limit}``: the limit, ``{name}``: the class).
    _torch_step_error: ClassVar[tuple[type[Exception], str]] = (
        ValueError,
        "{name} cannot be stepped past step {limit} (torch's raises there); got step {step}",
    )

    def _float32_steps(self) -> int | None:
        """The last step whose float32 value lrfun promises within the float32 tolerance
        (None: every step); past it float32 carries an error that grows with the step."""
        return None

    # A representative (spec, steps) for the gallery: settings recipes use, each showing what
    # the schedule is known for; None keeps the class out of the gallery.
    _gallery: ClassVar[tuple[str, int] | None] = None
    # A constructor argument that takes a Python function: no spec or JSON can hold one.
    _function_argument: ClassVar[str | None] = None
    # Whether that argument takes a number too (a constant, MultiplicativeLR's factor): specs
    # and JSON configs then name the class, with numbers there.
    _function_takes_numbers: ClassVar[bool] = False
    # A constructor argument that holds child schedules (a composite's, a join's): a list of
    # schedule calls in specs, of configs in configs; None where the class takes none.
    _schedules_argument: ClassVar[str | None] = None


@dataclasses.dataclass(frozen=True)
class Schedule(Configurable, register=False):
    """A learning-rate schedule: ``schedule(step)`` is the lr torch has set after ``step`` calls
    of ``scheduler.step()`` (step 0 is the lr right after construction).

    Subclasses are frozen dataclasses whose fields are torch's constructor arguments (with the
    optimizer replaced by ``base_lr``), checked in ``__post_init__``; they implement ``_lr``
    (and ``_momentum`` when torch cycles momentum) once, against the array API.

    Calling a schedule:
      * a Python int gives a Python float (float64 math);
      * a NumPy, JAX or torch array of steps gives an array of lrs in that namespace, on the
        step's device, broadcast over the steps: ``schedule(np.arange(n))`` is the trajectory;
      * when lr-valued arguments are sequences (one per param group) results gain a trailing
        group axis: a Python step then gives a NumPy array of shape ``(groups,)``, which its
        static type (``float``, what a Python step gives every single-group schedule) does
        not tell; a NumPy step (``schedule(np.int64(k))``) is typed as the array it gives.
    Negative steps give the step-0 value; float steps are floored; a NaN step gives NaN.

    Schedules are JAX pytrees: the float hyperparameters (``_hyperparameters``) are the
    leaves, everything else is static, so ``jax.jit`` traces once per structure and
    ``jax.vmap`` over stacked schedules is a sweep.
    """

    # How torch's chainable update acts on the group's lr, which decides how the schedule
    # combines in a ChainedScheduler: "factor" multiplies it by a factor of the child's own
    # epoch alone (the chain is then a product: a closed form), "affine" adds an offset too,
    # "absolute" overwrites it.
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "absolute"
    # torch steps it by a recursion that drifts from torch's own closed form (which lrfun
    # evaluates) by more than float64 rounding over long runs: the harness allows torch's
    # own distance between the two.
    _torch_drifts: ClassVar[bool] = False

    # The types say what a schedule of Python-float hyperparameters returns (the schedules
    # users build). Two cases they cannot tell apart from the step's type: with several param
    # groups a Python step gives a NumPy array (one lr per group), and with array
    # hyperparameters (tensors, or a schedule traced by JAX) an array of their kind.
    @overload
    def __call__(self, step: float) -> float: ...
    @overload
    def __call__(self, step: NumPyStep) -> NumPyValues: ...
    @overload
    def __call__(self, step: jax.Array) -> jax.Array: ...
    @overload
    def __call__(self, step: torch.Tensor) -> torch.Tensor: ...

    def __call__(self, step: Step) -> Any:
        """The lr after ``step`` scheduler steps (see the class docstring for types)."""
        if type(step) is int and self._on_scalars() and -(2**63) <= step < 2**63:
            value = evaluate_scalar(self._lr, step)
            if value is not None:
                return value
        return evaluate(self._lr, self._step_like(step), self._groups, real=self._real_steps)

    def _on_scalars(self) -> bool:
        """Whether a Python-int step is evaluated on Python numbers: one param group, every
        hyperparameter a Python number (an array hyperparameter makes the result such an
        array). Decided once per object."""
        known = self._memo._values.get(_SCALARS)  # (a read without the lock: see Cache.get)
        if known is None:
            known = self._memo.get(
                _SCALARS, lambda: self._groups is None and _array_leaf(self) is None
            )
        return bool(known)

    def _step_like(self, step: Any) -> Any:
        """A Python step as an array of the namespace a hyperparameter lives in, when one is
        an array (traced by jit/vmap, or a torch tensor): the result is then such an array."""
        if not isinstance(step, (int, float)) or isinstance(step, bool):
            return step
        leaf = _array_leaf(self)
        if leaf is None:
            return step
        return namespace(leaf).asarray(step, device=device_of(leaf))

    @overload
    def momentum(self, step: float) -> float: ...
    @overload
    def momentum(self, step: NumPyStep) -> NumPyValues: ...
    @overload
    def momentum(self, step: jax.Array) -> jax.Array: ...
    @overload
    def momentum(self, step: torch.Tensor) -> torch.Tensor: ...

    def momentum(self, step: Step) -> Any:
        """The momentum (SGD) or beta1 (Adam) torch writes after ``step`` scheduler steps.

        Raises:
          TypeError: the schedule does not cycle momentum.
        """
        if not self.cycles_momentum:
            raise TypeError(f"{self!r} does not cycle momentum")
        if type(step) is int and self._on_scalars() and -(2**63) <= step < 2**63:
            value = evaluate_scalar(self._momentum, step)
            if value is not None:
                return value
        return evaluate(self._momentum, self._step_like(step), self._groups)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        raise NotImplementedError

    def _momentum(self, ctx: Ctx, step: Any) -> Any:
        raise NotImplementedError

    # -- torch's object, step by step ---------------------------------------------------------

    # Whether torch steps this schedule at real-valued epochs (``step(epoch + i / iters)``,
    # documented for CosineAnnealingWarmRestarts): a float step is then that epoch, where
    # every other schedule takes the whole number below it.
    _real_steps: ClassVar[bool] = False
    # Whether torch's step continues a param group added after construction
    # (``optimizer.add_param_group``) from the lr it was added with, by ``_chain_maps`` read
    # off that lr alone; torch's other schedulers raise at such a group (their per-group
    # lists are as long as the groups at construction).
    _continues_added_groups: ClassVar[bool] = False

    def _check_epoch(self, epoch: float) -> None:
        """Refuses (ValueError) an epoch given to ``step(epoch)`` of a schedule with real
        steps where torch's own step computes something other than the schedule's value."""

    # Constructing the torch scheduler overwrites the group's initial_lr (OneCycleLR), where
    # the others only set it when no scheduler has.
    _sets_initial_lr: ClassVar[bool] = False
    # torch computes its first lr against the group's initial_lr where an earlier scheduler
    # set one (CyclicLR sets its own base_lrs only after its first step).
    _first_step_reads_initial_lr: ClassVar[bool] = False

    def _started(self, ctx: Ctx, step: Any, start: Any) -> Any:
        """The lr after ``step`` steps when torch's first step found ``start`` in the group
        (a scheduler built after another one ran, or a SequentialLR's first child after the
        reset to ``initial_lr``): torch's chainable updates continue from it, its closed forms
        use the base lr. A schedule whose every step sets the lr outright ignores it."""
        return self._lr(ctx, step)

    def _with_start(self, start: Any) -> Schedule | None:
        """This schedule as torch runs it when its first step finds ``start`` in the groups
        (``start_lr``); None where its lrs do not depend on that."""
        if "start_lr" not in {f.name for f in dataclasses.fields(self)}:
            return None
        return dataclasses.replace(self, start_lr=start)  # type: ignore[call-arg]

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        """The lr relative to the base lr: what a ``"factor"`` schedule's torch updates have
        multiplied it by (ChainedScheduler multiplies these)."""
        raise NotImplementedError

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        """torch's ``get_lr`` at the own epochs ``epochs`` (int64, epoch 0 first) as affine
        maps of the group's lr, one row per epoch (see ``lrfun._chain``); by default the
        closed form overwrites the lr."""
        return ChainMaps.absolute(self, epochs, groups)

    def _node(self, groups: int, base: np.ndarray, shared: Shared) -> Node:
        """This scheduler as an object of the host simulation of torch's composites."""

        def build(leaf: Schedule, epochs: np.ndarray) -> ChainMaps:
            # torch's closed forms use each scheduler's own base_lrs.
            own = np.broadcast_to(np.asarray(leaf._initial_lr, dtype=np.float64), (groups,))
            return leaf._chain_maps(epochs, groups, own)

        return Single(self, shared, build)

    # Whether the torch scheduler reads param-group keys (lr or momentum bounds) when it
    # steps, which another scheduler on the same optimizer may have overwritten.
    _reads_group_keys: ClassVar[bool] = False

    @property
    def _writes_group_keys(self) -> bool:
        """Whether constructing the torch scheduler writes such param-group keys."""
        return False

    def _write(self, shared: Shared) -> None:
        """Records, at construction, the param-group keys this scheduler writes."""

    def _read(self, shared: Shared) -> Schedule:
        """This schedule as it runs on the param-group keys ``shared`` holds."""
        return self

    # Whether SequentialLR restarts it from the lr the previous child left, where torch has
    # no closed form to restart it with.
    _continues: ClassVar[bool] = False

    def _restarted(self, ctx: Ctx, since: Any, base: Any, previous: Any) -> Any:
        """The lr ``since`` steps after a SequentialLR milestone restarted it (torch's
        ``_update_lr(0)``): ``base`` is its own base lr, ``previous`` the lr just before the
        milestone (used where ``_continues``)."""
        return self._lr(ctx, since)

    def _leaves(self) -> tuple[Schedule, ...]:
        """The single schedules inside, in torch's construction order."""
        return (self,)

    def _course_changes(self, n: int) -> list[float]:
        """Steps below ``n`` where the course visibly changes (decays, phase ends, restarts)."""
        return []


def _keywords(cls: type) -> frozenset[str] | None:
    """The names ``cls``'s constructor takes as keywords (None where it takes ``**kwargs``),
    cached for the class."""
    names = _arguments(cls)
    taken = None if names is None else frozenset(names)
    _KEYWORDS[cls] = taken
    return taken


def _arguments(cls: type) -> list[str] | None:
    """The constructor's keyword arguments in its order, or None where it takes any."""
    parameters = list(inspect.signature(cls).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _unexpected_keyword(cls: type, key: str) -> str:
    """Python's refusal of a keyword the constructor does not take, with the close names
    (``gama`` -> ``gamma``), or every name where none is close."""
    from lrfun._suggest import did_you_mean

    taken = _arguments(cls) or []
    hint = did_you_mean(key, taken) or f"it takes {', '.join(taken)}"
    return f"{cls.__name__}() got an unexpected keyword argument {key!r}; {hint}"


def is_own(cls: type) -> bool:
    """Whether one of lrfun's modules defines ``cls`` (not a library, a test or a doctest)."""
    module = sys.modules.get(cls.__module__)
    return cls.__module__.startswith("lrfun.") and getattr(module, cls.__name__, None) is cls


# lrfun's own families: their names are their libraries'.
_FAMILIES = {
    "": "torch's schedulers",
    "hf.": "transformers' schedules",
    "optax.": "optax's schedules",
    "timm.": "timm's schedulers",
    "keras.": "Keras' schedules",
    "megatron.": "Megatron-LM's schedules",
    "olmo.": "OLMo-core's schedules",
    "nanotron.": "nanotron's schedules",
    "torchtitan.": "torchtitan's schedules",
    "big_vision.": "big_vision's schedules",
    "hagele.": "the schedules of Hägele et al. (2024)",
    "lrfun.": "lrfun's own schedules",
}

# The modules that define a family, imported when one of its names is first looked up or
# every class is listed: ``import lrfun`` imports none of them (torch's and transformers'
# families are imported with lrfun).
_FAMILY_MODULES: dict[str, tuple[str, ...]] = {
    "optax.": ("lrfun._optax_family",),
    "timm.": ("lrfun._timm_family",),
    "keras.": ("lrfun._keras_family",),
    "megatron.": ("lrfun.megatron",),
    "olmo.": ("lrfun._llm_presets",),
    "nanotron.": ("lrfun._llm_presets",),
    "torchtitan.": ("lrfun._llm_presets",),
    "big_vision.": ("lrfun._llm_presets",),
    "hagele.": ("lrfun._llm_presets",),
    "lrfun.": ("lrfun._wsd", "lrfun._branch", "lrfun._warmup"),
}


def _load(namespace: str | None = None) -> None:
    """Imports the modules of lrfun's family ``namespace`` (None: of every family), once."""
    for family, modules in _FAMILY_MODULES.items():
        if namespace is None or namespace == family:
            for module in modules:
                # (every time: a module another thread is importing is in sys.modules
                # before its classes are registered, and this waits for it)
                importlib.import_module(module)


def _where(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _flat(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


_NO_BASE = object()
# The memo's key for ``Schedule._on_scalars``.
_SCALARS = "scalars"


def _array_leaf(s: Configurable) -> Any:
    """The first hyperparameter that is an array rather than a Python float, or None."""
    for name in s._tree_leaves():
        value = getattr(s, name)
        for item in value if isinstance(value, tuple) else (value,):
            found = _array_leaf(item) if isinstance(item, Configurable) else item
            if found is not None and not isinstance(found, float):
                return found
    return None


def registered(name: object) -> type[Configurable] | None:
    """The schedule class registered under ``name`` (a torch scheduler's name, or
    ``hf.<Class>`` for transformers' schedules), or None."""
    if not isinstance(name, str):
        return None
    found = _REGISTRY.get(name)
    if found is None and "." in name:
        family = name[: name.index(".") + 1]
        if family in _FAMILY_MODULES:
            _load(family)
            found = _REGISTRY.get(name)
    return found


def names(namespace: str | None = None, *, own: bool = False) -> tuple[str, ...]:
    """Every registered name, sorted; only a family's with ``namespace`` (``""``: torch's
    schedulers, ``"hf."``: transformers'); only lrfun's own classes with ``own`` (not those a
    library's modules registered)."""
    _load(namespace)
    return tuple(
        sorted(
            n
            for n, c in list(_REGISTRY.items())  # a snapshot: imports may register more
            if namespace in (None, c._namespace) and (not own or is_own(c))
        )
    )


def classes(namespace: str | None = None, *, own: bool = False) -> tuple[type[Configurable], ...]:
    """Every registered class (of the family ``namespace``; lrfun's ``own``), sorted by
    name."""
    return tuple(_REGISTRY[name] for name in names(namespace, own=own))


def from_config(config: Mapping[str, Any]) -> Configurable:
    """Builds the schedule (or plateau machine) a config describes (the inverse of
    ``to_config``).

    Args:
      config: ``{"name": <schedule class name>, **constructor arguments}``. In-memory configs
        may hold callables (they cannot be JSON, but they construct).

    Returns:
      The schedule. Typed ``Configurable``: which class a config builds is in its
      ``"name"``, a value read at run time, and a config may describe a metric-driven
      machine (``ReduceLROnPlateau``, ``hf.GreedyLR``) as well as a ``Schedule``; tell them
      apart with ``isinstance``, or call the class itself (``lrfun.StepLR(**arguments)``)
      where the type matters.

    Raises:
      ValueError: unknown name; dicts and lists nested more than ``MAX_CONFIG_DEPTH``
        deep; TypeError/ValueError: a bad argument (naming it).

    >>> from_config({"name": "StepLR", "base_lr": 0.1, "step_size": 10})(10)
    0.010000000000000002
    """
    from lrfun._suggest import did_you_mean, listed
    from lrfun._validate import _shown

    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    # Building recurses once per nested schedule and Python's stack ends near 1,000 frames:
    # the depth is measured first, without recursing (a dict that holds itself included).
    level: list[tuple[Any, int]] = [(config, 1)]
    while level:
        item, depth = level.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise ValueError(
                f"config nests dicts and lists more than {MAX_CONFIG_DEPTH} deep; at most "
                f"{MAX_CONFIG_DEPTH} levels are read"
            )
        children = item.values() if isinstance(item, Mapping) else item
        level.extend((c, depth + 1) for c in children if isinstance(c, (Mapping, list, tuple)))
    kwargs = dict(config)
    name = kwargs.pop("name", None)
    cls = registered(name) if isinstance(name, str) else None
    if cls is None:
        suggestion = did_you_mean(name, names())
        raise ValueError(
            f"config name must be one of {listed(names())}; got {_shown(name)}"
            + (f" ({suggestion})" if suggestion else "")
        )
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(key) for key in set(kwargs) - fields)
    if unknown:
        suggestion = did_you_mean(unknown[0], sorted(fields))
        raise ValueError(
            f"{name} has no argument {_shown(unknown[0])} "
            + (f"({suggestion})" if suggestion else f"(it takes {sorted(fields)})")
        )
    return cls(**kwargs)


# The deepest config :func:`from_config` reads, in dicts and lists within one another: every
# config a spec writes (schedules 32 deep, each with literals 32 deep) is at most 97 deep.
MAX_CONFIG_DEPTH = 100


# -- registration with JAX, whenever it is imported ---------------------------------------
#
# lrfun does not import jax. Every schedule class must still be a pytree the moment jax is
# there: registered now if jax is already imported, else right after jax's own import
# finishes (a one-shot import hook), and classes defined later register as they are defined.

_registered: set[type[Configurable]] = set()


def _register_pytrees() -> None:
    import jax

    for cls in sorted(_pytrees - _registered, key=lambda c: c.__qualname__):

        def flatten_with_keys(s: Configurable) -> tuple[Any, Any]:
            leaves, aux = s._tree_flatten()
            keys = [jax.tree_util.GetAttrKey(name) for name in aux[0]]
            return list(zip(keys, leaves, strict=True)), aux

        jax.tree_util.register_pytree_with_keys(
            cls,
            flatten_with_keys,
            cls._tree_unflatten,
            flatten_func=lambda s: s._tree_flatten(),
        )
        _registered.add(cls)


# The hook and the loader follow the import protocols without importlib.abc's base classes
# (importing importlib.abc imports importlib.resources: a few percent of ``import lrfun``).
class _JaxLoader:
    """jax's own loader, which registers lrfun's pytrees once jax's module has run."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        _register_pytrees()

    def __getattr__(self, name: str) -> Any:  # resources and the rest: jax's loader
        return getattr(self._loader, name)


class _JaxHook:
    """Waits for ``import jax`` (once), then wraps its loader."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "jax":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            # a Loader by protocol (see _JaxLoader)
            spec.loader = _JaxLoader(spec.loader)  # type: ignore[assignment]
        return spec


def _watch_for_jax() -> None:
    if "jax" in sys.modules:
        _register_pytrees()
    elif not any(isinstance(finder, _JaxHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _JaxHook())


_watch_for_jax()
