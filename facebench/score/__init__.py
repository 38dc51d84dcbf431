"""Score a zoo: every metric on every model's feature bundle, then each metric's zoo-level step (:mod:`.zoo`)."""
