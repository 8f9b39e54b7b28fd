"""Scale-out on existing engines: Ray corpus tagging and data-parallel training."""
