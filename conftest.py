"""Collection rules for the doctests of ``heavyball/`` (the test run uses ``--doctest-modules``)."""

import importlib.util

# The TorchProblem examples need the optional `frameworks` extra; without PyTorch they are skipped.
collect_ignore = [] if importlib.util.find_spec("torch") else ["heavyball/_torch_problem.py"]

# The explorer's Panel app needs the optional `explore` extra.
if not importlib.util.find_spec("panel"):
    collect_ignore.append("heavyball/explore/app.py")
