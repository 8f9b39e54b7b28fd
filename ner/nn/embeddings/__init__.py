"""embeddings of the ner toolkit."""
