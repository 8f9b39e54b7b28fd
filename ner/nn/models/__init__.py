"""Encoders: token vectors in, one hidden state per token out; the `encoder` slot's parts, registered in
`ner.nn.parts`."""
