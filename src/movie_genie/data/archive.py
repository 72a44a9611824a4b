"""Read-only access to the member files of a data set, whether it sits in a zip or in a folder."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from movie_genie.errors import DataError


class Archive:
    """A zip file or folder holding data set files; members are found by file name (folders: up to one level down)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            # A GroupLens folder holds its files at the top or one folder down (an unpacked zip); looking no deeper
            # keeps this cheap when the folder is, say, the one a metadata CSV happens to sit in.
            found = [*self.path.glob("*"), *self.path.glob("*/*")]
            members = [p.relative_to(self.path).as_posix() for p in found if p.is_file()]
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DataError(
                    f"{self.path} is not a readable zip file ({exc}); delete it and download it again, "
                    "or pass --source a GroupLens zip or an unpacked folder"
                ) from exc
            members = [n for n in self._zip.namelist() if not n.endswith("/")]
        else:
            raise DataError(f"{self.path} does not exist; pass --source a GroupLens zip or folder")
        # Shortest path first so "ml-100k/u.data" wins over a copy deeper down; macOS resource forks are skipped.
        self._members = sorted((m for m in members if not m.startswith("__MACOSX/")), key=lambda m: (m.count("/"), m))

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying zip file, if any."""
        if self._zip is not None:
            self._zip.close()

    def find(self, name: str) -> str | None:
        """The member path whose file name is `name`, or None."""
        return next((m for m in self._members if PurePosixPath(m).name == name), None)

    def has(self, name: str) -> bool:
        """Whether a member with this file name exists."""
        return self.find(name) is not None

    def require(self, *names: str) -> None:
        """Raise DataError naming every missing member file."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            raise DataError(
                f"{self.path} lacks {', '.join(missing)}; it is not a complete MovieLens download "
                "(fetch a fresh copy, or pass --source the original GroupLens zip)"
            )

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """Open a member for binary reading; DataError when it is missing or the zip is corrupt."""
        self.require(name)
        member = self.find(name)
        assert member is not None
        try:
            if self._zip is None:
                with (self.path / member).open("rb") as handle:
                    yield handle
            else:
                with self._zip.open(member) as handle:
                    yield handle
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DataError(
                f"{self.path}: member {member} is corrupt ({exc}); delete the file and download it again"
            ) from exc

    def size(self, name: str) -> int:
        """Uncompressed size of a member in bytes."""
        self.require(name)
        member = self.find(name)
        assert member is not None
        return (self.path / member).stat().st_size if self._zip is None else self._zip.getinfo(member).file_size

    def read_bytes(self, name: str) -> bytes:
        """The whole content of a member."""
        with self.open(name) as handle:
            return handle.read()
