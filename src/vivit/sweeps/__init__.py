"""Hyper-parameter sweeps with Optuna: a search space over recipe keys, a study shared
by worker processes through one storage URL, every trial a normal run directory."""
