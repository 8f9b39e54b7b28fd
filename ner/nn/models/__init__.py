"""Encoders: token vectors in, one hidden state per token out, chosen by `model.model`."""

from ner.nn.models.ffnn import FFNN
from ner.nn.models.passthrough import PassThrough
from ner.nn.models.recurrent import GRU, LSTM, ElmanRNN
from ner.nn.models.rnn import RNN

ENCODERS = {
    "ffnn": FFNN,
    "rnn": RNN,
    "lstm": LSTM,
    "gru": GRU,
    "elman": ElmanRNN,
    "none": PassThrough,
}
