"""Draw the app icons (web/static/icons/*.png, favicon.ico) with Pillow from the same shapes as
web/static/icons/icon.svg: a white house with a yellow door on the service's green.

Run: .venv/bin/python tools/make_icons.py  (the outputs are committed; rerun after changing the SVG)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "icons"
GREEN, WHITE, YELLOW = "#0b5d3b", "#ffffff", "#f0b400"
SIZES = {"icon-192.png": 192, "icon-512.png": 512, "apple-touch-icon.png": 180}


def draw(size: int, rounded: bool = True) -> Image.Image:
    scale = 4  # drawn large and scaled down: smooth edges without an SVG renderer
    unit = size * scale / 512
    image = Image.new("RGBA", (size * scale, size * scale), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle(
        (0, 0, size * scale - 1, size * scale - 1), radius=int(96 * unit) if rounded else 0, fill=GREEN
    )
    house = [(256, 96), (448, 256), (400, 256), (400, 416), (112, 416), (112, 256), (64, 256)]
    pen.polygon([(x * unit, y * unit) for x, y in house], fill=WHITE)
    pen.rectangle((216 * unit, 296 * unit, 296 * unit, 416 * unit), fill=YELLOW)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        # the home-screen icons fill their square (launchers round them); the favicon keeps its corners
        draw(size, rounded=False).save(OUT / name, optimize=True)
    draw(64).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
