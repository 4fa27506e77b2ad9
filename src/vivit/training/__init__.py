"""Training: recipes, the Lightning module and data module, callbacks, the run driver."""
