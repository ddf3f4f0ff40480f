"""Draws the figures of the "LLM schedules" page (docs/llm.md) into docs/images/.

Run from the repository root: ``MPLBACKEND=Agg python docs/llm_plots.py``.
"""

import lrfun
import lrfun.llm as llm
import lrfun.plot

T, W, D = 1000, 100, 200
family = [
    lrfun.WarmupStableDecay(1.0, T, warmup=W, decay=D),
    llm.WSD(1.0, max_steps=T, warmup=W, decay=D, decay_fraction=None),
    llm.LinearWarmupStableDecay(1.0, T, warmup_steps=W, decay_ratio=0.2),
    llm.LrScheduler(1.0, T, lr_warmup_steps=W, lr_decay_starting_step=T - D, min_decay_lr=0.0),
    llm.WsdSchedule(1.0, T, n_warmup=W, fract_decay=0.2),
]
labels = ["lrfun.WarmupStableDecay", "olmo.WSD", "torchtitan", "nanotron", "hagele (from 1/100)"]
lrfun.plot.plot(
    family,
    T + 50,
    labels=labels,
    title="linear WSD, five frameworks",
    path="docs/images/llm-wsd.png",
)
shapes = [
    "linear",
    "1-sqrt",
    "cosine",
    "square",
    "mirror-cosine",
    "exponential",
    "exponential-halving",
]
cooldowns = [
    lrfun.WarmupStableDecay(1.0, T, warmup=W, decay=0.4, final_lr=0.01, decay_shape=s)
    for s in shapes
]
lrfun.plot.plot(
    cooldowns,
    T + 50,
    labels=shapes,
    milestones=False,
    title="decay shapes (final_lr = 0.01)",
    path="docs/images/llm-cooldowns.png",
)
slow = [
    lrfun.WarmupStableDecay(1.0, T, warmup=W, decay=D, stable_shape="rsqrt"),
    llm.LearningRateSchedule(1.0, T, "rsqrt", warmup_steps=W, cooldown_steps=D, timescale=W),
    llm.InvSqrtWithWarmup(1.0, T, alpha_f=0.0, warmup=W),
    llm.PowerLR(1.0, T, b=-0.51, warmup=W, decay=D, decay_fraction=None),
]
lrfun.plot.plot(
    slow,
    T + 50,
    labels=[
        "lrfun rsqrt + linear cooldown",
        "big_vision rsqrt x cooldown",
        "olmo.InvSqrtWithWarmup",
        "olmo.PowerLR",
    ],
    title="rsqrt and power laws",
    path="docs/images/llm-rsqrt.png",
)
run = lrfun.WarmupStableDecay(1.0, T, warmup=W, decay=D, stable_shape="rsqrt")
branches = [
    run,
    lrfun.cooldown_from(run, 400, 100, "1-sqrt"),
    lrfun.resume(
        run, lrfun.WarmupStableDecay(1.0, 1500, warmup=W, decay=D, stable_shape="rsqrt"), 900, 1500
    ),
]
lrfun.plot.plot(
    branches,
    1550,
    labels=["the run", "cooldown_from(run, 400, 100)", "resume(run, longer, 900, 1500)"],
    title="branching",
    path="docs/images/llm-branch.png",
)
