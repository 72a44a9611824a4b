"""Title cleaning: articles moved to the front, years split off, alternate titles kept."""

from __future__ import annotations

import pytest

from movie_genie.data.titles import clean_title


@pytest.mark.parametrize(
    ("raw", "title", "year"),
    [
        ("American President, The (1995)", "The American President", 1995),
        ("Misérables, Les (1995)", "Les Misérables", 1995),
        ("Postino, Il (1994)", "Il Postino", 1994),
        ("Atalante, L' (1934)", "L'Atalante", 1934),
        ("Boot, Das (1981)", "Das Boot", 1981),
        ("Blaue Engel, Der (1930)", "Der Blaue Engel", 1930),
        ("Blechtrommel, Die (1979)", "Die Blechtrommel", 1979),
        ("Mariachi, El (1992)", "El Mariachi", 1992),
        ("Few Good Men, A (1992)", "A Few Good Men", 1992),
        ("Affair to Remember, An (1957)", "An Affair to Remember", 1957),
        ("Postman, The (Postino, Il) (1994)", "The Postman (Il Postino)", 1994),
        ("City of Lost Children, The (Cité des enfants perdus, La) (1995)",
         "The City of Lost Children (La Cité des enfants perdus)", 1995),
        ("Good, the Bad and the Ugly, The (Buono, il brutto, il cattivo, Il) (1966)",
         "The Good, the Bad and the Ugly (Il Buono, il brutto, il cattivo)", 1966),
        ("Babylon 5", "Babylon 5", None),
        ("unknown", "unknown", None),
        ("(500) Days of Summer (2009)", "(500) Days of Summer", 2009),
        ("1984 (1956)", "1984", 1956),
        ("Me, Myself and I (2000)", "Me, Myself and I", 2000),
        ("Death Note: Desu nôto (2006–2007)", "Death Note: Desu nôto", 2006),
        ("Land Before Time III: The Time of the Great Giving (1995) (V)",
         "Land Before Time III: The Time of the Great Giving", 1995),
        ("  Toy Story  (1995) ", "Toy Story", 1995),
    ],
)  # fmt: skip
def test_clean_title(raw: str, title: str, year: int | None) -> None:
    assert clean_title(raw) == (title, year)
