"""Torch tabular model, device selection, training loop."""
