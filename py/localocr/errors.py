"""The one error type localocr raises for anything a user can cause."""


class LocalOCRError(Exception):
    """A problem with the input or a model, with a message meant for a person.

    `code` is a short stable identifier (e.g. "not_an_image", "too_large",
    "bad_model") that front ends can branch on; `str(err)` is the message.
    """

    def __init__(self, message: str, code: str = "error"):
        super().__init__(message)
        self.code = code
