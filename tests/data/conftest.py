"""Fixtures for the data layer: the recbole wheel (fetched once per session) and tiny hand-made data sets."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from movie_genie.data.sources import fetch_recbole_wheel


@pytest.fixture(scope="session")
def recbole_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recbole==1.2.1 wheel, fetched from PyPI with pip into a session cache and sha256-verified."""
    return fetch_recbole_wheel(tmp_path_factory.mktemp("cache"))


def make_zip(path: Path, root: str, files: dict[str, bytes | str]) -> Path:
    """Write a GroupLens-style zip: every file under the top folder `root`/."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{root}/{name}", content.encode("utf-8") if isinstance(content, str) else content)
    return path


def make_folder(path: Path, files: dict[str, bytes | str]) -> Path:
    """Write a data set folder."""
    path.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (path / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# A tiny ml-latest-small-like data set: 3 users, 4 movies. User 1 has two ratings at the same second (10),
# written in the order 2 then 1, so a stable sort must keep 2 before 1.
TINY_CSV: dict[str, bytes | str] = {
    "movies.csv": (
        "movieId,title,genres\n"
        '1,"American President, The (1995)",Comedy|Drama|Romance\n'
        '2,"Misérables, Les (1995)",Drama|War\n'
        "3,Babylon 5,Sci-Fi\n"
        "4,Hyena Road (2015),(no genres listed)\n"
    ),
    "ratings.csv": (
        "userId,movieId,rating,timestamp\n"
        "2,1,3.0,50\n"
        "1,2,4.5,10\n"
        "1,1,4.0,10\n"
        "1,3,2.0,5\n"
        "1,4,5.0,20\n"
        "3,4,1.0,7\n"
        "2,2,3.5,40\n"
        "2,3,2.5,60\n"
    ),
    "tags.csv": 'userId,movieId,tag,timestamp\n1,1,politics,11\n2,3,"space, station",61\n',
    "links.csv": "movieId,imdbId,tmdbId\n1,0112346,9087\n2,0113828,\n3,0105946,10000\n4,4028068,336004\n",
}

TINY_1M: dict[str, bytes | str] = {
    "ratings.dat": "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n",
    "movies.dat": (
        "10::Toy Story (1995)::Animation|Children's|Comedy\n20::Cité des enfants perdus, La (1995)::Sci-Fi\n"
    ).encode("latin-1"),
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n",
}
