"""Token representations: the word embedding, and the parts chosen by `model.chars` (character
encoders) and `model.casing` (casing features)."""

from ner.nn.embeddings.casing import CasingEmbedding
from ner.nn.embeddings.char_bilstm import CharBiLSTM
from ner.nn.embeddings.char_cnn import CharCNN

CHARACTER_ENCODERS = {
    "cnn": CharCNN,
    "bilstm": CharBiLSTM,
}
CASING_FEATURES = {
    "embedding": CasingEmbedding,
}
