"""Helpers for the PyTorch fundamentals course.

Small modules with one job each:

- :mod:`helpers.data`: the data sets shipped in ``data/`` and two generators.
- :mod:`helpers.device`: pick a device, seed everything, print the environment.
- :mod:`helpers.plotting`: decision boundaries, loss curves, regression lines.
- :mod:`helpers.training`: ``train_step``, ``test_step`` and ``fit``.
- :mod:`helpers.distributed`: launch multi-process scripts with torchrun; a data-parallel diagram.
- :mod:`helpers.checks`: the self-checks used by the exercise notebooks.
"""

__version__ = "0.1.0"
