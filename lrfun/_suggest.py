"""Did-you-mean suggestions for a name that was refused: the close names it may have meant.

Every refusal of an unknown name (a schedule in a spec or config, a keyword argument, a mode,
a ``get_scheduler`` type, a command of ``lrfun``) asks here, so all of them suggest alike.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = ["close_names", "did_you_mean", "listed"]

# difflib's own default: 'OneCyclLR' -> 'OneCycleLR' and 'total_step' -> 'total_steps' pass,
# 'Foo' -> 'ExponentialLR' does not.
_CUTOFF = 0.6
_MARGIN = 0.1
_MOST = 3


def close_names(name: object, choices: Iterable[object]) -> list[str]:
    """The choices ``name`` most likely meant, best first (at most three; none when nothing
    is close).

    Spelling is compared without regard to case (``onecyclelr`` means ``OneCycleLR``); where
    no spelling is close, a choice that holds the name as a whole word of its own is
    suggested (``lr`` -> ``base_lr``: an argument spelled the way another library spells it).

    Args:
      name: what was given (anything but a string suggests nothing).
      choices: the names that would have been accepted.

    Returns:
      The close choices, as they are spelled.

    >>> close_names("OneCyclLR", ["StepLR", "OneCycleLR", "CyclicLR"])
    ['OneCycleLR']
    >>> close_names("lr", ["base_lr", "step_size", "gamma"])
    ['base_lr']
    """
    if not isinstance(name, str) or not name:
        return []
    texts = list(dict.fromkeys(c for c in choices if isinstance(c, str) and c != name))
    by_folded: dict[str, str] = {}
    for text in texts:
        by_folded.setdefault(text.casefold(), text)
    folded = name.casefold()
    matcher = difflib.SequenceMatcher(b=folded)
    scores = []
    for key, text in by_folded.items():
        matcher.set_seq1(key)
        score = matcher.ratio()
        if score >= _CUTOFF:
            scores.append((-score, text))
    if scores:
        scores.sort()
        best = -scores[0][0]
        # the runners-up only when nearly as close: OneCyclLR means OneCycleLR, not CyclicLR
        return [text for score, text in scores if -score >= best - _MARGIN][:_MOST]
    return [t for t in texts if folded in _words(t.casefold())][:_MOST]


def _words(text: str) -> set[str]:
    """The words of a name: ``base_lr`` -> {base, lr}, ``hf.GreedyLR`` -> {hf, greedylr}."""
    return set(text.replace(".", "_").replace("-", "_").split("_"))


def did_you_mean(name: object, choices: Iterable[object]) -> str:
    """``"did you mean 'X'?"`` (or ``'X' or 'Y'``) for a refused name; ``""`` when no
    choice is close.

    >>> did_you_mean("total_step", ["max_lr", "total_steps", "epochs"])
    "did you mean 'total_steps'?"
    >>> did_you_mean("Foo", ["StepLR"])
    ''
    """
    close = close_names(name, choices)
    if not close:
        return ""
    quoted = [repr(c) for c in close]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"did you mean {listed}?"


def listed(known: Sequence[str]) -> str:
    """Schedule names for a refusal: lrfun's own (torch's) in full, each family's counted --
    the whole list runs to thousands of characters and says less than its shape."""
    own = [n for n in known if "." not in n]
    families = sorted({n.split(".", 1)[0] for n in known if "." in n})
    counted = ", ".join(
        f"{family}.* ({sum(n.startswith(family + '.') for n in known)} names)"
        for family in families
    )
    if not counted:
        return ", ".join(own)
    return f"{', '.join(own)}; or a family's: {counted} ('lrfun completion --names' lists them)"
