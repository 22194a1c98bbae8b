"""Looking at the pictures: a few plots opened in headless Chromium (Debian's package), as a person would see them.

The page holds one image; Chromium reports (``--dump-dom``) that it loaded at the asked size, and its screenshot
(``--screenshot``) shows the same picture as matplotlib's own PNG of it: the browser really drew it. Marked
``browser``: Chromium is installed with apt-get when missing; the test skips, with the reason, only when this machine
cannot install or start it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from service.compute.plots import DistributionSpec, PlotTask
from service.compute.plots import run as plot

pytestmark = pytest.mark.browser

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--hide-scrollbars",
)
INSTALL_SECONDS = 900
RUN_SECONDS = 120
WIDTH, HEIGHT = 800, 600
PICTURES = {
    "contour": PlotTask(
        "contour",
        function="x^2 + 3*y^2",
        overlays=("gradient_arrows", "level_set", "tangent"),
        at=(1, 1),
        trajectory=((2, 1.5), (1.2, 0.3), (0.2, 0.0)),
    ),
    "curve": PlotTask("curve", function="sin(x)", overlays=("tangent",), at=(1,), taylor_orders=(3,)),
    "distribution": PlotTask("distribution", distribution=DistributionSpec("gamma", (("shape", 2.0), ("rate", 1.0)))),
}


def _install() -> str | None:
    """Chromium's path, installing Debian's package when missing; None with the reason printed when impossible."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("chromium is missing and this machine cannot install it (apt-get as root is needed)")
    environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_SECONDS, env=environment)
        if done.returncode != 0:
            pytest.skip(f"chromium could not be installed here ({' '.join(command)}): {done.stderr[-500:]}")
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _install()
    assert path is not None
    return path


def _browse(chromium: str, page: Path, profile: Path, *extra: str) -> str:
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", *extra, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _page(directory: Path, source: str) -> Path:
    page = directory / f"{source}.html"
    page.write_text(
        "<!doctype html><html><head><style>html,body{margin:0;background:#fff}img{display:block}</style></head>"
        f'<body><img src="{source}" onload="document.body.dataset.shown = this.naturalWidth + \'x\' + '
        'this.naturalHeight" onerror="document.body.dataset.shown = \'error\'"></body></html>'
    )
    return page


@pytest.mark.parametrize(("name", "format"), [("contour", "svg"), ("curve", "svg"), ("distribution", "png")])
def test_chromium_shows_the_plot(chromium: str, tmp_path: Path, name: str, format: str) -> None:
    task = replace(PICTURES[name], format=format, width=WIDTH, height=HEIGHT)
    source = tmp_path / f"{name}.{format}"
    source.write_bytes(plot(task).image)
    page = _page(tmp_path, source.name)
    dom = _browse(chromium, page, tmp_path / "profile-dom", "--dump-dom")
    assert re.search(r'data-shown="(\d+x\d+)"', dom) is not None, dom
    assert f'data-shown="{WIDTH}x{HEIGHT}"' in dom
    shot = tmp_path / "shot.png"
    _browse(chromium, page, tmp_path / "profile-shot", f"--screenshot={shot}")
    seen = mpimg.imread(shot)[:HEIGHT, :WIDTH, :3]
    reference = mpimg.imread(_reference(task, tmp_path))[..., :3]
    assert seen.shape == reference.shape
    # Compared in blocks of 20 x 20 pixels: antialiasing and sub-pixel offsets of thin lines average out.
    difference = float(np.mean(np.abs(_blocks(seen) - _blocks(reference))))
    blank = float(np.mean(np.abs(1.0 - _blocks(reference))))  # how far a blank page would be from the picture
    # Measured: contour.svg 0.0090 against a blank page's 0.2988, curve.svg 0.0019 against 0.0199, the PNG 0.
    assert difference < 0.25 * blank, (difference, blank)  # matplotlib's own picture, not a blank or broken page


def _blocks(picture: np.ndarray, size: int = 20) -> np.ndarray:
    rows, columns = picture.shape[0] // size, picture.shape[1] // size
    trimmed = picture[: rows * size, : columns * size]
    return trimmed.reshape(rows, size, columns, size, -1).mean(axis=(1, 3))


def _reference(task: PlotTask, directory: Path) -> Path:
    path = directory / "reference.png"
    path.write_bytes(plot(replace(task, format="png")).image)
    return path
