"""The model contract, in one small package: what a detector or recognizer file must say and offer
for the pipeline to use it (../shared/ARCHITECTURE.md).

- `keys`: the metadata keys and the I/O names (written by export/, read here);
- `onnxfile`: the one reader (and, for the fake models of the tests, the one writer) of the ONNX
  bytes, in pure Python, the same on CPython and in Pyodide;
- `models`: the checked specs (DetectorSpec, RecognizerSpec), `load_model` (the bytes parsed once,
  handed to the backend) and the model-file rule (`model_file`).
"""
