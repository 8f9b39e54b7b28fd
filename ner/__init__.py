"""Named-entity recognition with feed-forward and recurrent neural networks."""

__version__ = "0.1.0"
