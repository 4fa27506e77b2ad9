"""Evaluation: metrics by the MedMNIST conventions, and evaluating a model on a split."""
