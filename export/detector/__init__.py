"""The text detector (DBNet-style): model, data, training, evaluation, export, model card."""
