"""Evaluate metrics against the ground truth: correlations, reliability of the ground truth, significance.

* :mod:`.correlations`: per target, how well a metric's scores rank the fine-tuned results (tau_w, ...);
* :mod:`.rowstats`: the same statistics for many resamples at once (rows of arrays);
* :mod:`.reliability`: how far a target's ground truth can be trusted (split-half, noise ceiling);
* :mod:`.significance`: whether two metrics differ (paired bootstrap over seeds and test samples).

Nothing here reads the store or knows a metric: the leaderboard hands in arrays.
"""
