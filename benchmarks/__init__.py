"""Side-by-side measurements: lrfun against the alternatives users have, as ratios.

Run ``python -m benchmarks`` from the repository root (``--help`` for options). Each module
measures one comparison and returns :class:`~benchmarks._common.Row` objects; the command
prints them as a table and writes them as JSON (``--table`` writes the docs' table from
the JSON). Timed figures are medians of paired ratios over rounds in which the contenders take
turns (:func:`~benchmarks._common.paired`), with the interquartile range as their spread;
targets are checked on ratios, never on absolute times. ``run(tiny=True)`` runs a module at a
size small enough for the test suite, where only correctness is checked.
"""
