"""The HTTP service: raw text in, entities out, and a page that highlights them."""
