"""Inference: read user inputs (volumes, stacks, videos) and predict classes."""
