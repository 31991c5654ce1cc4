"""Face registration and login with FaceNet (TensorFlow/Keras 3), MTCNN and a Flask service.

Notebook use::

    from face_login import FaceEmbedder
    embedder = FaceEmbedder()                          # MTCNN + FaceNet, loaded on first use
    a = embedder.embed_file("me.jpg").embedding        # (128,) unit vector
    b = embedder.embed_file("me_again.jpg").embedding
    float(((a - b) ** 2).sum() ** 0.5)                 # under 1.0: the same person at the service's threshold
"""

from face_login.embedder import EmbedderConfig, FaceEmbedder, FaceEmbedding
from face_login.errors import FaceLoginError, ImageError, MultipleFacesError, NoFaceError
from face_login.gallery import Gallery, Match

__all__ = ["EmbedderConfig", "FaceEmbedder", "FaceEmbedding", "FaceLoginError", "Gallery", "ImageError", "Match",
           "MultipleFacesError", "NoFaceError"]
