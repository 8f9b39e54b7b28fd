"""Token representations: the word embedding, and character encoders chosen by `model.chars`."""

from ner.nn.embeddings.char_cnn import CharCNN

CHARACTER_ENCODERS = {
    "cnn": CharCNN,
}
