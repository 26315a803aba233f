"""A resident on a throttled 360-px phone uploads a real-size camera photo: shrunk in the browser,
sent with a progress bar, stored small."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select

from engine.models import Document
from web.demo import sample_application
from web.extensions import db

# the phone: 400 ms latency, 50 KB/s down, 25 KB/s up, a CPU four times slower
NETWORK = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 25 * 1024}


def throttle(page: Any) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})


def camera_photo(path: Path, megabytes: float = 4.0) -> Path:
    """A JPEG as big as a phone camera's (noise does not compress, like a real scene's detail)."""
    rng = random.Random(7)
    side = 1600
    image = Image.frombytes("RGB", (side, side * 3 // 4), rng.randbytes(side * (side * 3 // 4) * 3))
    image = image.resize((3200, 2400))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size > megabytes * 1024 * 1024 * 0.8
    return path


def test_a_4_mb_camera_photo_shrinks_and_uploads_with_progress_on_3g(live: Any, new_page: Any, tmp_path: Path) -> None:
    page = new_page(360, 740)
    answer = page.request.post(f"{live.url}/api/v1/applications", data=sample_application(3))
    created = answer.json()
    page.goto(f"/track/{created['reference']}?tracking_code={created['tracking_code']}")
    throttle(page)
    page.set_input_files("#file", str(camera_photo(tmp_path / "IMG_20261201.jpg")))
    note = page.locator("#file-upload")
    note.filter(has_text="Foto diperkecil").wait_for(timeout=90_000)
    assert "MB →" in note.inner_text()
    page.screenshot(path=str(tmp_path / "shrunk-360.png"))
    page.click("form[data-upload] button[type=submit]")
    page.locator(".upload-progress progress").wait_for(timeout=10_000)
    page.wait_for_url(f"**/track/{created['reference']}", timeout=120_000)
    page.get_by_text("berhasil diunggah").wait_for(timeout=60_000)
    with live.app.app_context():
        sizes = [d.size for d in db.session.scalars(select(Document))]
        db.session.remove()
    assert sizes and max(sizes) <= 320 * 1024, sizes
