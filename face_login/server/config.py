"""Service settings. Each can be set in ``create_app(config)`` or as an environment variable ``FACE_LOGIN_<NAME>``.

Environment values are parsed as JSON when they can be (``FACE_LOGIN_MATCH_THRESHOLD=1.0`` is a float,
``FACE_LOGIN_LIVENESS_REQUIRED=true`` a bool), otherwise taken as strings.
"""

from __future__ import annotations


class DefaultConfig:
    # Two embeddings closer than this (Euclidean, unit vectors) are the same person. It was calibrated with
    # MTCNN and margin 0.2 on the 5-celebrity val split plus the faces/identities photos (54 genuine and 507
    # impostor pairs). The closest impostor pair was at 1.004, so 1.0 gave FAR 0/507 and FRR 9.3%, and the
    # EER is 1.5% at 1.14. The sample is small: recalibrate on your users with `python -m face_login evaluate DIR`.
    MATCH_THRESHOLD = 1.0

    DATABASE = None  # SQLite file; None: <instance folder>/face_login.sqlite3
    STORE_PHOTOS = False  # keep the raw enrolment photos in the database

    DETECTOR = "mtcnn"  # "mtcnn" as in the article, or "hog" (dlib, faster on a CPU)
    FACENET_WEIGHTS = None  # path to facenet_keras.h5; None: $AI_PRACTICE_DATA, then the cache, then pip download
    SHAPE_PREDICTOR = None  # path to shape_predictor_68_face_landmarks.dat; None: face_recognition_models
    FACE_MARGIN = 0.2
    PRELOAD_MODELS = False  # load FaceNet and the detector in create_app instead of on the first request

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # bytes per request
    MAX_IMAGE_PIXELS = 12_000_000  # per photo, checked before decoding
    MAX_PHOTOS_PER_USER = 5
    MAX_NAME_LENGTH = 32

    LIVENESS_REQUIRED = False  # require a blink in a burst of frames before /api/login and /api/verify succeed
    LIVENESS_MIN_FRAMES = 5
    LIVENESS_MAX_FRAMES = 30

    SECRET_KEY = None  # signs session tokens; None: a random key per process, with a warning
    TOKEN_MAX_AGE_S = 3600
    ADMIN_TOKEN = None  # when set, GET /api/users requires 'X-Admin-Token' and it may delete any user

    RATE_LIMIT_WINDOW_S = 60
    RATE_LIMIT_PER_CLIENT = 20  # face requests (register, login, verify) per client address per window
    USER_FAILURE_WINDOW_S = 300
    USER_FAILURE_LIMIT = 5  # failed logins or verifications against one user per failure window
    TRUST_PROXY = False  # take the client address from X-Forwarded-For (only behind a trusted proxy)

    EMBEDDER = None  # a ready FaceEmbedder to share (tests, notebooks); None: build one from the settings above
    LANDMARK_MODEL = None  # a ready LandmarkModel to share; None: build one from SHAPE_PREDICTOR
