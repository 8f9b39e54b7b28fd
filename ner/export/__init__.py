"""Export of trained runs: the network to ONNX, with what the torch-free runtime needs beside it."""
