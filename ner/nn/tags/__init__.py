"""Tag schemes and tag chains in numpy: what heads decode into, shared by the torch-free runtime."""
