"""Heads: the output projection, the loss and the decoding of a tagger; the `head` slot's parts,
registered in `ner.nn.parts`."""
