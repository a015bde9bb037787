"""The command line, ``python -m isingviz`` (or ``isingviz``): simulate, train, train-general, evaluate, predict,
sweep. ``commands`` parses and dispatches, ``help`` holds the teaching help texts, ``settings`` layers flags,
``--config`` files and defaults. The top layer: may import every other part of the package.
"""

from .commands import main as main
