"""Token representations: the word embedding, and the parts chosen by `model.chars` (character
encoders), `model.casing` (casing features) and `model.transformer` (a packaged pretrained transformer,
imported only when used: it needs the `transformer` extra)."""

from ner.nn.embeddings.casing_embedding import CasingEmbedding
from ner.nn.embeddings.char_bilstm import CharBiLSTM
from ner.nn.embeddings.char_cnn import CharCNN
from ner.nn.embeddings.transformer import TransformerEmbedding

CHARACTER_ENCODERS = {
    "cnn": CharCNN,
    "bilstm": CharBiLSTM,
}
CASING_FEATURES = {
    "embedding": CasingEmbedding,
}
TRANSFORMERS = {
    "minilm": TransformerEmbedding,
}
