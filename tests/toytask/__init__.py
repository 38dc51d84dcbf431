"""A toy task defined outside facebench: this folder and its ``plugin`` module are all it takes.

Loaded as ``$FACEBENCH_PLUGINS=toytask.plugin`` or a config's ``plugins: [toytask.plugin]``,
the same way a user's task plugin is, with no change to facebench's core.
"""
