"""Segmentation datasets: embedded offline scenes (:mod:`.scenes`) and your own folders (:mod:`.folders`)."""
