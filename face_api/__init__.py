"""Face analysis on dlib: detection, landmarks, eye and mouth state, head pose, descriptors, and an HTTP API.

Typical use from a notebook::

    import face_api
    image = face_api.load_image("obama.jpg")
    faces = face_api.analyze_image(image)          # boxes, 68 landmarks, state, head pose
    faces[0].state.expression, faces[0].pose.yaw

Models load on first use, from the ``face_recognition_models`` package (see ``face_api.model_files``).
"""

from face_api.analysis import ANALYSES, AnalysisOptions, FaceAnalysis, analyze_image, parse_analyses
from face_api.annotate import annotate_image, encode_png, write_png
from face_api.descriptors import (
    DEFAULT_TOLERANCE,
    KnownFaces,
    Match,
    check_descriptor,
    compare_faces,
    face_descriptors,
    face_distance,
)
from face_api.detection import DetectionOptions, FaceBox, detect_faces
from face_api.errors import (
    DetectionBudgetError,
    FaceApiError,
    InvalidDescriptorError,
    InvalidImageError,
    InvalidOptionError,
    ModelUnavailableError,
    NoFaceFoundError,
    TooManyPixelsError,
)
from face_api.images import load_image
from face_api.landmarks import REGIONS_5, REGIONS_68, Landmarks, face_chips, face_landmarks
from face_api.models import FaceModels, ModelPaths, default_models
from face_api.pose import HeadPose, estimate_head_pose
from face_api.state import FaceState, StateThresholds, eye_aspect_ratio, face_state, mouth_aspect_ratio

__all__ = [
    "ANALYSES", "AnalysisOptions", "FaceAnalysis", "analyze_image", "parse_analyses",
    "annotate_image", "encode_png", "write_png",
    "DEFAULT_TOLERANCE", "KnownFaces", "Match", "check_descriptor", "compare_faces", "face_descriptors",
    "face_distance",
    "DetectionOptions", "FaceBox", "detect_faces",
    "DetectionBudgetError", "FaceApiError", "InvalidDescriptorError", "InvalidImageError", "InvalidOptionError",
    "ModelUnavailableError", "NoFaceFoundError", "TooManyPixelsError",
    "load_image",
    "REGIONS_5", "REGIONS_68", "Landmarks", "face_chips", "face_landmarks",
    "FaceModels", "ModelPaths", "default_models",
    "HeadPose", "estimate_head_pose",
    "FaceState", "StateThresholds", "eye_aspect_ratio", "face_state", "mouth_aspect_ratio",
]
