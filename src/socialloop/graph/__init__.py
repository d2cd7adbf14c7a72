"""The influence loop's graphs: the interaction graph (``build``), influence per author and
scope (``influence``), communities (``communities``), the interest graph (``interest``),
exports (``export``), the build pipeline (``pipeline``) and the PeerIndex evaluation
(``eval_influence``). Import the submodules; this package imports nothing heavy."""
