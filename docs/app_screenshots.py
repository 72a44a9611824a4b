"""Copy the screenshots the browser tests took into the docs, small enough to commit.

The tests (tests/e2e/test_app_polish.py and test_web_app.py) save full-size PNGs under web/test-results/screenshots/
(git-ignored). This picks the ones docs/app.md shows, scales them to at most 900 px wide and writes WebP files to
docs/assets/app/. Run it after the browser tests on the default data (`make pipeline`, then
`MOVIE_GENIE_E2E_ARTEFACTS=. pytest tests/e2e`), so the pictures show real recommendations, not the tiny test models.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TAKEN = ROOT / "web" / "test-results" / "screenshots"
DOCS = ROOT / "docs" / "assets" / "app"
# docs name <- the test's screenshot name
SHOWN = {
    "home-desktop": "home-1440",
    "home-phone": "home-390",
    "film-rated": "film-rated-half-star-1440",
    "profile-key": "profile-key-1440",
    "sign-in-phone": "sign-in-with-key-390",
    "models-phone": "models-390",
    "onboarding-phone": "onboarding-360",
    "offline-phone": "offline-home-390",  # docs/install-app.md's, from tests/e2e/test_installable_app.py
}
MAX_WIDTH = 900
MAX_HEIGHT = 2400  # a long full-page shot is cut: the top of a page is what the docs discuss


def main() -> int:
    missing = [taken for taken in SHOWN.values() if not (TAKEN / f"{taken}.png").is_file()]
    if missing:
        print(f"no screenshot {', '.join(missing)} in web/test-results/screenshots: run the browser tests first")
        return 1
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, taken in SHOWN.items():
        with Image.open(TAKEN / f"{taken}.png") as image:
            picture = image.convert("RGB")
            if picture.width > MAX_WIDTH:
                picture = picture.resize((MAX_WIDTH, round(picture.height * MAX_WIDTH / picture.width)))
            picture = picture.crop((0, 0, picture.width, min(picture.height, MAX_HEIGHT)))
            picture.save(DOCS / f"{name}.webp", "WEBP", quality=80, method=6)
        print(f"docs/assets/app/{name}.webp")
    return 0


if __name__ == "__main__":
    sys.exit(main())
