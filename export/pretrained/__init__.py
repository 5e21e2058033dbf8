"""Recognizer built on licence-clean pretrained features (issue 15).

ppocr      the PP-OCRv6 small recognizer from the rapidocr wheel: fetched, checked, cut into the
           convolutional backbone and the teacher (its own neck + Latin-pruned head)
features   backbone features + teacher log-probabilities of real and synthetic crops (.cache/rec48)
head       our BiLSTM + linear head (torch), trained on those features with CTC + distillation
build      the shipped ONNX: grey [N,1,48,W] -> backbone -> our head -> log-probabilities
"""
