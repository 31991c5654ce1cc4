"""Errors that the command line and the service report as one line instead of a traceback."""


class FaceLoginError(Exception):
    """A user-facing error in face_login; the message states what failed and what to do."""


class ImageError(FaceLoginError):
    """An image that cannot be decoded, or that is larger than the configured pixel limit."""


class WeightsError(FaceLoginError):
    """A FaceNet weights file that does not fit the model: a missing, extra or wrongly shaped tensor."""


class NoFaceError(FaceLoginError):
    """An image in which the detector found no face."""


class MultipleFacesError(FaceLoginError):
    """An image with more than one face where exactly one is required."""

    def __init__(self, message: str, count: int):
        super().__init__(message)
        self.count = count
