"""The fast CRNN recognizer: model, data, training, export, the learning curve and the space bias."""
