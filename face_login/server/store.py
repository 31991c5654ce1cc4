"""SQLite storage for users, their face embeddings, optional photos and login attempts.

One connection per request (the Flask pattern), so it is safe under gunicorn's worker processes. The
``gallery_version`` counter changes on every enrolment change, so each worker reloads its in-memory
:class:`~face_login.gallery.Gallery` only when another request, in any worker, changed it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face_login.gallery import Gallery

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    vector BLOB NOT NULL,
    model TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    image BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    client TEXT NOT NULL,
    user_name TEXT,
    endpoint TEXT NOT NULL,
    success INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_client ON attempts (client, at);
CREATE INDEX IF NOT EXISTS attempts_user ON attempts (user_name, at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('gallery_version', 0);
"""

EMBEDDING_MODEL = "facenet_keras.h5/inception_resnet_v1/prewhiten"


@dataclass(frozen=True)
class User:
    id: int
    name: str
    created_at: float
    embedding_count: int


class UserStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self.connection = sqlite3.connect(self.path, timeout=10.0)
        self.connection.row_factory = sqlite3.Row
        self.connection.execute("PRAGMA foreign_keys = ON")

    @classmethod
    def initialise(cls, path: str | Path) -> None:
        """Create the database file and tables if missing."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        store = cls(path)
        try:
            store.connection.execute("PRAGMA journal_mode = WAL")
            store.connection.executescript(SCHEMA)
            store.connection.commit()
        finally:
            store.close()

    def close(self) -> None:
        self.connection.close()

    def add_user(self, name: str, embeddings: np.ndarray, photos: list[bytes] | None = None) -> User:
        """Insert a user with its embeddings (and photos, if given) in one transaction.

        Raises:
            sqlite3.IntegrityError: the name is taken.
        """
        now = time.time()
        with self.connection:
            cursor = self.connection.execute("INSERT INTO users (name, created_at) VALUES (?, ?)", (name, now))
            user_id = cursor.lastrowid
            self.connection.executemany(
                "INSERT INTO embeddings (user_id, vector, model, created_at) VALUES (?, ?, ?, ?)",
                [(user_id, np.asarray(vector, "<f4").tobytes(), EMBEDDING_MODEL, now) for vector in embeddings])
            for image in photos or []:
                self.connection.execute("INSERT INTO photos (user_id, image, created_at) VALUES (?, ?, ?)",
                                        (user_id, image, now))
            self._bump_version()
        return User(id=user_id, name=name, created_at=now, embedding_count=len(embeddings))

    def delete_user(self, name: str) -> bool:
        with self.connection:
            deleted = self.connection.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
            if deleted:
                self._bump_version()
        return bool(deleted)

    def get_user(self, name: str) -> User | None:
        row = self.connection.execute(
            "SELECT u.id, u.name, u.created_at, COUNT(e.id) AS n FROM users u "
            "LEFT JOIN embeddings e ON e.user_id = u.id WHERE u.name = ? GROUP BY u.id", (name,)).fetchone()
        return None if row is None else User(row["id"], row["name"], row["created_at"], row["n"])

    def list_users(self) -> list[User]:
        rows = self.connection.execute(
            "SELECT u.id, u.name, u.created_at, COUNT(e.id) AS n FROM users u "
            "LEFT JOIN embeddings e ON e.user_id = u.id GROUP BY u.id ORDER BY u.name").fetchall()
        return [User(row["id"], row["name"], row["created_at"], row["n"]) for row in rows]

    def photo_count(self) -> int:
        return self.connection.execute("SELECT COUNT(*) FROM photos").fetchone()[0]

    def gallery_version(self) -> int:
        return self.connection.execute("SELECT value FROM meta WHERE key = 'gallery_version'").fetchone()[0]

    def load_gallery(self) -> tuple[int, Gallery]:
        """Return (version, gallery) read in one transaction, so the two always agree."""
        with self.connection:
            self.connection.execute("BEGIN")
            version = self.gallery_version()
            rows = self.connection.execute(
                "SELECT u.name, e.vector FROM embeddings e JOIN users u ON u.id = e.user_id ORDER BY e.id").fetchall()
        if not rows:
            return version, Gallery()
        embeddings = np.stack([np.frombuffer(row["vector"], "<f4") for row in rows])
        return version, Gallery(embeddings, [row["name"] for row in rows])

    def record_attempt(self, client: str, user_name: str | None, endpoint: str, success: bool,
                       keep_s: float = 86_400) -> None:
        """Insert one attempt; every 500th insert also deletes attempts older than ``keep_s`` seconds."""
        now = time.time()
        with self.connection:
            cursor = self.connection.execute(
                "INSERT INTO attempts (at, client, user_name, endpoint, success) VALUES (?, ?, ?, ?, ?)",
                (now, client, user_name, endpoint, int(success)))
            if cursor.lastrowid % 500 == 0:
                self.connection.execute("DELETE FROM attempts WHERE at < ?", (now - keep_s,))

    def count_attempts(self, since: float, client: str | None = None, user_name: str | None = None,
                       failures_only: bool = False) -> tuple[int, float | None]:
        """Return (count, time of the oldest) of the attempts since ``since`` that match the filters."""
        query, params = "SELECT COUNT(*), MIN(at) FROM attempts WHERE at >= ?", [since]
        if client is not None:
            query, params = query + " AND client = ?", [*params, client]
        if user_name is not None:
            query, params = query + " AND user_name = ?", [*params, user_name]
        if failures_only:
            query += " AND success = 0"
        count, oldest = self.connection.execute(query, params).fetchone()
        return count, oldest

    def _bump_version(self) -> None:
        self.connection.execute("UPDATE meta SET value = value + 1 WHERE key = 'gallery_version'")
