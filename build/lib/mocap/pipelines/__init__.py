"""End-to-end jobs that return results (no printing): multi-view, monocular, convert, lifter evaluation."""
