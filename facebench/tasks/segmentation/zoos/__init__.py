"""Segmentation zoos: embedded (offline, CPU) and the paper's PSPNet-R50 zoo."""
