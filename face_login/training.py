"""``train``: fine-tune (or train) the FaceNet embedding with semi-hard triplet loss on a class-folder dataset."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from face_login.embedder import EmbedderConfig, FaceEmbedder
from face_login.errors import FaceLoginError
from face_login.evaluate import write_json
from face_login.evaluation import pair_distances, verification_report
from face_login.images import list_class_folders, load_image
from face_login.preprocessing import prewhiten
from face_login.weights import quiet_keras_h5_io

logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    dataset: Path | None = None  # None: the 5-celebrity dataset's train split (val is used to evaluate)
    out: Path = Path("runs/facenet")
    epochs: int = 3
    steps_per_epoch: int = 20
    classes_per_batch: int = 4  # P identities per batch ...
    images_per_class: int = 4  # ... times K photos each: every anchor has positives and negatives
    margin: float = 0.2  # triplet margin on squared distances, as in FaceNet
    learning_rate: float = 1e-4
    train_from: str = "Block8_1"  # layers before the first one whose name starts with this stay frozen
    from_scratch: bool = False
    seed: int = 0
    weights: str | None = None
    detector: str = "mtcnn"
    face_margin: float = 0.2
    min_face_size: int = 20


def load_face_crops(embedder: FaceEmbedder, root: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Detect and crop the largest face of every photo once: (N, 160, 160, 3) uint8, (N,) int labels, names."""
    classes = list_class_folders(root)
    crops, labels, names = [], [], list(classes)
    for label, name in enumerate(names):
        for path in classes[name]:
            image = load_image(path)
            faces = embedder.detect(image)
            if faces:
                crops.append(embedder.crop(image, faces[0]))
                labels.append(label)
            else:
                logger.warning("no face found in %s; skipping it", path)
    if not crops:
        raise FaceLoginError(f"no faces found under {root}")
    return np.stack(crops), np.asarray(labels, np.int32), names


def pk_batches(crops: np.ndarray, labels: np.ndarray, classes_per_batch: int, images_per_class: int,
               rng: np.random.Generator):
    """Yield endless (prewhitened images, labels) batches of P classes x K images, with random horizontal flips."""
    by_class = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    eligible = [label for label, rows in by_class.items() if len(rows) >= 2]
    if len(eligible) < 2:
        raise FaceLoginError("triplet training needs at least two identities with two or more face photos each")
    per_batch = min(classes_per_batch, len(eligible))
    while True:
        chosen = rng.choice(eligible, size=per_batch, replace=False)
        rows = np.concatenate([rng.choice(by_class[label], size=images_per_class,
                                          replace=len(by_class[label]) < images_per_class) for label in chosen])
        images = crops[rows].copy()
        flip = rng.random(len(rows)) < 0.5
        images[flip] = images[flip, :, ::-1]
        yield prewhiten(images), labels[rows]


def freeze_before(model, prefix: str) -> int:
    """Freeze every layer before the first one named ``prefix...``; return the number of trainable layers."""
    if prefix == "all":
        return len(model.layers)
    names = [layer.name for layer in model.layers]
    start = next((i for i, name in enumerate(names) if name.startswith(prefix)), None)
    if start is None:
        raise FaceLoginError(f"no layer name starts with {prefix!r}; try Block8_1, Block17_1, Bottleneck or all")
    for layer in model.layers[:start]:
        layer.trainable = False
    return len(model.layers) - start


def embed_crops_with(model, crops: np.ndarray, batch_size: int = 32) -> np.ndarray:
    outputs = [model.predict_on_batch(prewhiten(crops[i:i + batch_size])) for i in range(0, len(crops), batch_size)]
    return np.concatenate(outputs)


def verification_summary(model, crops: np.ndarray, labels: np.ndarray) -> dict:
    genuine, impostor = pair_distances(embed_crops_with(model, crops), labels)
    report = verification_report(genuine, impostor)
    return {"eer": report.eer, "eer_threshold": report.eer_threshold,
            "genuine_mean": float(genuine.mean()), "impostor_mean": float(impostor.mean())}


def train(config: TrainConfig) -> dict:
    """Run the fine-tuning and write ``facenet_triplet.weights.h5``, ``history.json`` and ``report.json``."""
    import keras

    from face_login.assets import celebrity_dataset_path
    from face_login.embedder import load_pretrained_facenet
    from face_login.model import build_facenet
    from face_login.triplet import SemiHardTripletLoss

    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    # Step 1: the data, as face crops found once by the detector.
    root = config.dataset or celebrity_dataset_path()
    train_root, val_root = (root / "train", root / "val") if (root / "train").is_dir() else (root, None)
    embedder = FaceEmbedder(EmbedderConfig(detector=config.detector, margin=config.face_margin,
                                           min_face_size=config.min_face_size))
    train_crops, train_labels, names = load_face_crops(embedder, train_root)
    val = load_face_crops(embedder, val_root) if val_root is not None and val_root.is_dir() else None
    print(f"training on {len(train_crops)} faces of {len(names)} identities"
          + (f", evaluating on {len(val[0])} val faces" if val else ""))

    # Step 2: the model, pretrained unless asked otherwise, with the early layers frozen.
    model = build_facenet() if config.from_scratch else load_pretrained_facenet(config.weights)
    trainable = freeze_before(model, config.train_from)
    print(f"{trainable} of {len(model.layers)} layers trainable, from {config.train_from}")

    # Step 3: compile with the triplet loss and fit on P x K batches.
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=SemiHardTripletLoss(config.margin))
    before = verification_summary(model, *val[:2]) if val else None
    batches = pk_batches(train_crops, train_labels, config.classes_per_batch, config.images_per_class, rng)
    history = model.fit(batches, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch, verbose=2,
                        shuffle=False, callbacks=[keras.callbacks.TerminateOnNaN()])
    after = verification_summary(model, *val[:2]) if val else None

    # Step 4: save the weights and the numbers atomically.
    config.out.mkdir(parents=True, exist_ok=True)
    weights_path = config.out / "facenet_triplet.weights.h5"
    temporary = config.out / ".facenet_triplet.tmp.weights.h5"
    with quiet_keras_h5_io():
        model.save_weights(temporary)
    os.replace(temporary, weights_path)
    report = {"config": {key: str(value) for key, value in asdict(config).items()},
              "loss": [float(value) for value in history.history["loss"]], "val_before": before, "val_after": after}
    write_json(config.out / "report.json", report)
    print(f"final loss {report['loss'][-1]:.4f}"
          + (f"; val EER {before['eer']:.2%} -> {after['eer']:.2%}" if val else ""))
    print(f"wrote {weights_path} and {config.out / 'report.json'}")
    return report
