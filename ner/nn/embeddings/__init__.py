"""Token representations: the word embedding, and the parts of the `chars` (character encoders), `casing`
(casing features) and `transformer` (a packaged pretrained transformer, imported only when used: it
needs the `transformer` extra) slots, registered in `ner.nn.parts`."""
