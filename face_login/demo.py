"""``demo``: enrol the sample identities, identify the probe photos, evaluate distances, write the ROC curve."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from face_login.embedder import FaceEmbedder
from face_login.errors import FaceLoginError
from face_login.evaluate import embed_dataset, evaluate_dataset, format_report, write_json
from face_login.evaluation import pair_distances, plot_roc, verification_report
from face_login.gallery import Gallery
from face_login.images import list_images, load_image

logger = logging.getLogger(__name__)


def run_demo(embedder: FaceEmbedder, faces_root: Path, celebrity_root: Path | None, out: Path,
             threshold: float) -> dict:
    """Return a summary dict and write ``identify.json``, ``roc_identities.png`` and, with the celebrity set,
    ``celebrity/roc.png`` and ``celebrity/report.json`` under ``out``."""
    identities = faces_root / "identities"
    probes = faces_root / "probes"
    if not identities.is_dir() or not probes.is_dir():
        raise FaceLoginError(f"{faces_root} must contain identities/<name>/*.jpg and probes/*.jpg")

    # Step 1: enrol every photo of every identity into a gallery.
    enrolled = embed_dataset(embedder, identities)
    gallery = Gallery(enrolled.embeddings, enrolled.labels)
    print(f"enrolled {len(enrolled.labels)} photos of {len(set(enrolled.labels))} identities")

    # Step 2: identify every face in every probe photo (group photos have several).
    results = []
    for path in list_images(probes):
        image = load_image(path)
        faces = embedder.detect(image)
        crops = np.stack([embedder.crop(image, face) for face in faces]) if faces else None
        embeddings = embedder.embed_crops(crops) if crops is not None else []
        for face, embedding in zip(faces, embeddings, strict=True):
            match = gallery.nearest(embedding)
            name = match.name if match.distance < threshold else None
            results.append({"probe": path.name, "box": list(face.box), "nearest": match.name,
                            "distance": round(match.distance, 4), "identified_as": name})
            print(f"{path.name:24s} face at {face.box}: {name or 'unknown':16s} (nearest {match.name}, "
                  f"distance {match.distance:.3f})")
    write_json(out / "identify.json", {"threshold": threshold, "results": results})

    # Step 3: genuine and impostor distances among the enrolled photos.
    genuine, impostor = pair_distances(enrolled.embeddings, enrolled.labels)
    plot_roc(genuine, impostor, out / "roc_identities.png", title="FaceNet ROC on faces/identities",
             threshold=threshold)
    print("\nfaces/identities:\n" + format_report(verification_report(genuine, impostor)))

    # Step 4: the same evaluation on the 5-celebrity val split, with 1-NN against train.
    if celebrity_root is not None:
        report = evaluate_dataset(embedder, celebrity_root, out / "celebrity", threshold=threshold)
        print("\n5-celebrity-faces-dataset:\n" + format_report(report))
    return {"identified": results, "out": str(out)}


def reset_folder(out: Path) -> None:
    """Remove the files an earlier demo wrote in ``out`` so that no stale output is mixed in."""
    for name in ("identify.json", "roc_identities.png"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "celebrity", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
