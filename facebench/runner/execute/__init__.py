"""Execute planned jobs: in this process (:mod:`.local`), in N worker processes (:mod:`.pool`) or on Ray (:mod:`.ray`).

:func:`.choose.make_executor` picks one from the config and the command line; :mod:`.cost`
measures what each job cost where it ran.
"""
