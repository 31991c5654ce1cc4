"""Demo: analyse the sample face photos, compare identities, and write annotated PNGs and a JSON summary."""

from __future__ import annotations

import json
import logging
from itertools import combinations
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from face_api.analysis import AnalysisOptions, FaceAnalysis, analyze_image
from face_api.annotate import annotate_image, write_png
from face_api.compare import largest_face
from face_api.descriptors import DEFAULT_TOLERANCE, KnownFaces, face_distance
from face_api.detection import DetectionOptions
from face_api.errors import DataNotFoundError
from face_api.figures import eye_figure, mouth_figure
from face_api.files import write_bytes_atomic
from face_api.images import load_image
from face_api.landmarks import face_chips
from face_api.models import FaceModels, default_models
from practicekit import find_data_path

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
# Large photos are shrunk to this side for detection only; landmarks and descriptors use full resolution.
DEMO_DETECTION = DetectionOptions(max_side=1280)
DEMO_ANALYSES = frozenset({"landmarks", "state", "pose", "descriptor"})


def find_photos(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)


def run_demo(out_dir: Path, images_dir: Path | None = None, models: FaceModels | None = None) -> Path:
    """Run every analysis on the photos in ``images_dir`` (default: faces/ in $AI_PRACTICE_DATA).

    Writes ``annotated/<photo>.png``, ``landmarks_closeup.png``, ``eye_ear.png``, ``mouth_mar.png``,
    ``face_chips.png`` and ``summary.json`` under ``out_dir`` and returns the summary's path.
    """
    folder = images_dir or find_data_path("faces")
    if folder is None:
        raise DataNotFoundError("no sample photos found: set AI_PRACTICE_DATA to a folder that contains faces/, "
                                "or pass --images FOLDER")
    if not folder.is_dir():
        raise DataNotFoundError(f"image folder not found: {folder}; pass --images with a folder of photos")
    photos = find_photos(folder)
    if not photos:
        raise DataNotFoundError(f"no JPEG, PNG, WebP or BMP photos in {folder}; pass --images with a folder of photos")

    models = models or default_models()
    options = AnalysisOptions(detection=DEMO_DETECTION, analyses=DEMO_ANALYSES)
    annotated_dir = out_dir / "annotated"
    print(f"analysing {len(photos)} photos from {folder}")

    # Step 1: detect and analyse every photo, and draw the results.
    analysed: dict[str, tuple[np.ndarray, list[FaceAnalysis]]] = {}
    photo_summaries = []
    for path in photos:
        image = load_image(path)
        faces = analyze_image(image, options, models)
        analysed[path.name] = (image, faces)
        write_png(annotate_image(image, faces, max_side=1200), annotated_dir / f"{path.stem}.png")
        photo_summaries.append(_photo_summary(path, image, faces))
        expressions = ", ".join(face.state.expression for face in faces if face.state) or "-"
        print(f"  {path.name}: {len(faces)} face(s) [{expressions}]")

    # Step 2: pairwise distances between the main faces of the photos.
    portraits = {name: largest_face(faces) for name, (_, faces) in analysed.items() if faces}
    pairs = _pairwise_distances(portraits)

    # Step 3: 1:N identification of probes/ against identities/, when the folder has them.
    identification = _identify(folder, models, options)

    # Step 4: teaching figures: numbered landmarks, EAR and MAR close-ups, and the aligned chips.
    figures = _write_closeups(analysed, out_dir, models)
    figures["face_chips"] = _write_chips(analysed, out_dir / "face_chips.png")

    summary = {
        "images_dir": str(folder), "tolerance": DEFAULT_TOLERANCE,
        "detection": {"detector": DEMO_DETECTION.detector, "upsample": DEMO_DETECTION.upsample,
                      "max_side": DEMO_DETECTION.max_side},
        "photos": photo_summaries, "pairwise_distances": pairs, "identification": identification,
        "outputs": {"annotated": str(annotated_dir), **figures},
    }
    summary_path = _write_json(summary, out_dir / "summary.json")
    _print_report(pairs, identification)
    print(f"annotated images: {annotated_dir}")
    print(f"summary: {summary_path}")
    return summary_path


def _photo_summary(path: Path, image: np.ndarray, faces: list[FaceAnalysis]) -> dict[str, Any]:
    entries = []
    for face in faces:
        entry = face.to_dict()
        entry.pop("descriptor", None)
        entry.pop("landmarks", None)
        entries.append(entry)
    return {"image": path.name, "width": image.shape[1], "height": image.shape[0], "faces": entries}


def _pairwise_distances(portraits: dict[str, FaceAnalysis]) -> list[dict[str, Any]]:
    pairs = []
    for (name_a, face_a), (name_b, face_b) in combinations(portraits.items(), 2):
        distance = float(face_distance(face_a.descriptor, face_b.descriptor)[0])
        pairs.append({"a": name_a, "b": name_b, "distance": round(distance, 4),
                      "same_person": distance <= DEFAULT_TOLERANCE})
    return sorted(pairs, key=lambda pair: pair["distance"])


def _identify(folder: Path, models: FaceModels, options: AnalysisOptions) -> list[dict[str, Any]] | None:
    identities, probes = folder / "identities", folder / "probes"
    if not identities.is_dir() or not probes.is_dir():
        return None

    gallery = KnownFaces()
    for person in sorted(path for path in identities.iterdir() if path.is_dir()):
        for photo in find_photos(person):
            faces = analyze_image(load_image(photo), options, models)
            if faces:
                gallery.add(person.name, largest_face(faces).descriptor)
            else:
                logger.warning("no face in enrolment photo %s; skipping it", photo)

    results = []
    for probe in find_photos(probes):
        for face in analyze_image(load_image(probe), options, models):
            match = gallery.match(face.descriptor)
            results.append({"probe": probe.name, "box": face.box.to_dict(),
                            "nearest": match.to_dict() if match else None})
    return results


def _portrait_closeup(analysed: dict[str, tuple[np.ndarray, list[FaceAnalysis]]],
                      models: FaceModels) -> tuple[np.ndarray, FaceAnalysis] | None:
    """Crop the first single-face photo around its face, enlarge it to 720 px, and analyse the crop."""
    for image, faces in analysed.values():
        if len(faces) != 1:
            continue
        box = faces[0].box
        margin = box.width // 3
        top, bottom = max(0, box.top - margin), min(image.shape[0], box.bottom + margin)
        left, right = max(0, box.left - margin), min(image.shape[1], box.right + margin)
        crop = _enlarge(np.ascontiguousarray(image[top:bottom, left:right]), 720)
        crop_faces = analyze_image(crop, AnalysisOptions(analyses=frozenset({"landmarks", "state", "pose"})), models)
        if len(crop_faces) == 1:
            return crop, crop_faces[0]
    return None


def _write_closeups(analysed: dict[str, tuple[np.ndarray, list[FaceAnalysis]]], out_dir: Path,
                    models: FaceModels) -> dict[str, str]:
    """Write the numbered 68-point close-up and the EAR and MAR figures of one portrait."""
    portrait = _portrait_closeup(analysed, models)
    if portrait is None:
        return {}
    crop, face = portrait
    paths = {"landmarks_closeup": out_dir / "landmarks_closeup.png", "eye_ear": out_dir / "eye_ear.png",
             "mouth_mar": out_dir / "mouth_mar.png"}
    write_png(annotate_image(crop, [face]), paths["landmarks_closeup"])
    write_png(eye_figure(crop, face.landmarks), paths["eye_ear"])
    write_png(mouth_figure(crop, face.landmarks), paths["mouth_mar"])
    return {name: str(path) for name, path in paths.items()}


def _enlarge(image: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC))


def _write_chips(analysed: dict[str, tuple[np.ndarray, list[FaceAnalysis]]], path: Path) -> str | None:
    """Write the 150x150 aligned chips of up to eight faces side by side: the ResNet encoder's input."""
    chips = []
    for image, faces in analysed.values():
        chips.extend(face_chips(image, [face.landmarks for face in faces if face.landmarks is not None]))
    if not chips:
        return None
    write_png(np.concatenate(chips[:8], axis=1), path)
    return str(path)


def _write_json(data: dict[str, Any], path: Path) -> Path:
    return write_bytes_atomic(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))


def _print_report(pairs: list[dict[str, Any]], identification: list[dict[str, Any]] | None) -> None:
    same = [pair for pair in pairs if pair["same_person"]]
    print(f"pairwise comparison: {len(same)} of {len(pairs)} photo pairs within {DEFAULT_TOLERANCE}")
    if identification is None:
        return
    print("identification of probes/ against identities/:")
    for entry in identification:
        nearest = entry["nearest"]
        verdict = f"{nearest['name']} ({nearest['distance']:.3f})" if nearest and nearest["match"] else "unknown"
        print(f"  {entry['probe']} face at ({entry['box']['left']}, {entry['box']['top']}): {verdict}")
