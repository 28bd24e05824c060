"""Synthetic scenes for tests and benchmarks (:mod:`.scenes`)."""
