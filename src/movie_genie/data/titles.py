"""MovieLens title cleaning: "American President, The (1995)" -> ("The American President", 1995).

MovieLens stores titles library-style, with a leading article moved to the end ("Misérables, Les") and the release
year in parentheses; foreign films often carry their original title in a second parenthesis, stored the same way.
"""

from __future__ import annotations

import re

# Articles MovieLens moves to the end of a title, in the languages it uses. Kept explicit (no generic "short word")
# so a real last word such as "Me, Myself and I" is never moved.
ARTICLES = frozenset(
    {
        "The", "A", "An",  # English
        "La", "Le", "Les", "L'", "Un", "Une",  # French
        "Il", "Lo", "Gli", "I", "Uno", "Una",  # Italian (La, L' as in French)
        "Das", "Der", "Die", "Den", "Ein", "Eine",  # German
        "El", "Los", "Las",  # Spanish
        "O", "Os", "As",  # Portuguese
        "De", "Het", "Det", "En", "Et",  # Dutch, Scandinavian
    }
)  # fmt: skip

# "(1995)", "(2006-2007)" or "(2006–)" at the end, optionally followed by one marker such as "(V)" (video release).
_YEAR = re.compile(r"^(?P<body>.*?)\s*\((?P<year>\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)(?:\s*\([^()]*\))?\s*$")
# A title, then any number of "(alternative title)" groups at the end.
_ALTERNATES = re.compile(r"^(?P<main>.*?)(?P<alts>(?:\s*\([^()]*\))*)\s*$")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+?),\s*(?P<article>[^\s,]+)$")


def _front_article(name: str) -> str:
    """'American President, The' -> 'The American President'; anything else is returned unchanged."""
    match = _TRAILING_ARTICLE.match(name.strip())
    if match is None or match.group("article") not in ARTICLES:
        return name.strip()
    article, body = match.group("article"), match.group("body").strip()
    return f"{article}{body}" if article.endswith("'") else f"{article} {body}"


def clean_title(raw: str) -> tuple[str, int | None]:
    """Split a MovieLens title into a readable title and its year (None when the title has none)."""
    text = " ".join(raw.split())  # collapse stray whitespace, strip the ends
    year: int | None = None
    match = _YEAR.match(text)
    if match is not None and match.group("body"):
        text, year = match.group("body"), int(match.group("year"))
    parts = _ALTERNATES.match(text)
    if parts is None or not parts.group("main").strip():
        return _front_article(text), year
    alternates = re.findall(r"\(([^()]*)\)", parts.group("alts"))
    title = " ".join([_front_article(parts.group("main")), *(f"({_front_article(a)})" for a in alternates)])
    return title, year
