"""File templates for ``facebench.scaffold`` (kept as Python strings so that they ship with the package)."""
