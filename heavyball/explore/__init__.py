"""``heavyball explore``: a live explorer of momentum in the browser (optional extra ``explore``).

The pure part (no widget library) is importable everywhere:
:class:`ExploreState` (the whole view, parsed from and written to a URL query by
:func:`from_query` / :func:`to_query`) and :func:`compute` (everything the
views draw). :func:`app` builds the Panel app (``pip install -e '.[explore]'``);
in a notebook ``heavyball.explore.app()`` displays it, and ``heavyball explore``
serves it (:func:`heavyball.explore._serve.serve`).
"""

from .compute import View, compute
from .state import METHODS, ExploreState, QueryError, from_query, to_query

__all__ = ["ExploreState", "QueryError", "View", "app", "compute", "from_query", "to_query", "METHODS"]


def app(query=""):
    """The explorer as a Panel object (displays in Jupyter; ``heavyball explore`` serves it).

    ``query`` is a URL query giving the first view (served apps read the page's URL instead).
    Needs the extra ``explore`` (Panel).
    """
    from .app import build

    return build(query)
