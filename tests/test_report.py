"""The batch report: one HTML file a person opens after a run, checked in a real
headless browser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, Browser
from tests.conftest import REPO, SAMPLE, make_image, run_cli
from ycecli.api import TaskResult
from ycecli.report import parse_since, rows_from_results, write_report

ARTIFACT = REPO / "tests" / "artifacts" / "report.png"

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)",
)


def ten_photos(folder: Path) -> list[Path]:
    """Ten inputs that look different from each other, as a real batch would."""
    from PIL import Image

    folder.mkdir()
    photos = []
    for i in range(10):
        path = folder / f"photo{i:02d}.{'png' if i % 3 == 0 else 'jpg'}"
        if i == 0:
            shutil.copy(SAMPLE, path.with_suffix(".jpg"))
            path = path.with_suffix(".jpg")
        else:
            img = Image.new("RGB", (120 + 20 * i, 90 + 10 * i), (25 * i, 200 - 15 * i, 90))
            img.paste((250, 250, 250), (10, 10, 40 + 5 * i, 30 + 3 * i))
            img.save(path)
        photos.append(path)
    return photos


@needs_chromium
def test_a_ten_input_report_loads_cleanly_and_every_picture_renders(sandbox_env, tmp_path):
    ten_photos(tmp_path / "photos")
    sandbox_env.fail_next_task("error_no_face", "No face detected <in photo>")
    run = run_cli("enhance", "photos", "-o", "out/", "--report", "report.html", timeout=120)
    assert run.code == 10, run.stderr  # one failed, nine done
    assert "report: report.html" in run.stderr
    page = tmp_path / "report.html"

    with Browser() as browser:
        browser.open(page.as_uri(), width=1280, height=900)
        pictures = browser.evaluate(
            "[...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))"
        )
        cards = browser.evaluate("document.querySelectorAll('section.task').length")
        failure_text = browser.evaluate("document.querySelector('.task.failed').innerText")
        shot = browser.screenshot(ARTIFACT)
        browser.evaluate("document.querySelector('label[for=failures-only]').click()")
        shown = browser.evaluate(
            "[...document.querySelectorAll('section.task')]"
            ".filter(s => s.offsetParent !== null).length"
        )
        loads = browser.loaded_urls()
        errors = browser.console_errors()

    print(f"screenshot of the report: {shot}")
    assert errors == []
    assert cards == 10
    # Before for each input, after for each success: nothing broken, nothing missing.
    assert len(pictures) == 19 and all(p["ok"] for p in pictures), pictures
    assert "error_no_face: No face detected <in photo>" in failure_text
    assert shown == 1  # the filter leaves the one failure
    assert loads and all(url.startswith(("file:", "data:")) for url in loads), loads


def test_task_report_covers_the_latest_run_unless_told_otherwise(sandbox_env, tmp_path):
    make_image(tmp_path / "a.jpg")
    make_image(tmp_path / "b.jpg", size=(80, 60))
    make_image(tmp_path / "<odd & name>.jpg", size=(50, 40))
    sandbox_env.fail_next_task("error_no_face", "No face detected")
    first = run_cli("enhance", "a.jpg", "b.jpg", "-o", "first/")
    assert first.code == 10, first.stderr
    second = run_cli("enhance", "<odd & name>.jpg", "-o", "second/")
    assert second.code == 0, second.stderr

    latest = run_cli("--json", "task", "report", "-o", "latest.html")
    assert latest.code == 0, latest.stderr
    [line] = [json.loads(x) for x in latest.stdout.splitlines()]
    assert line == {
        "kind": "report",
        "path": "latest.html",
        "tasks": 1,
        "failed": 0,
    }
    text = (tmp_path / "latest.html").read_text()
    assert "&lt;odd &amp; name&gt;.jpg" in text and "<odd" not in text

    everything = run_cli("task", "report", "--last", "5", "-o", "all.html")
    assert everything.code == 0, everything.stderr
    assert everything.stdout.strip() == "all.html"
    text = (tmp_path / "all.html").read_text()
    assert len(re.findall(r'<section class="task', text)) == 3
    assert "Show failures only (1)" in text
    assert "error_no_face: No face detected" in text
    since = run_cli("--json", "task", "report", "--since", "1h", "-o", "hour.html")
    assert json.loads(since.stdout)["tasks"] == 3
    wrong = run_cli("task", "report", "--since", "yesterday-ish")
    assert wrong.code == 4 and "--since yesterday-ish" in wrong.stderr


def test_missing_pictures_become_labelled_tiles_not_broken_images(tmp_path):
    gone = TaskResult(feature="enhance", input="gone.jpg", status="success", files=["x.jpg"])
    remote = TaskResult(feature="enhance", input="https://example.com/a.jpg", status="timeout")
    remote.charged = True
    page = write_report(
        rows_from_results([gone, remote], {"scale": 2}), tmp_path / "r.html", title="t"
    )
    text = page.read_text()
    assert "<img" not in text
    assert "gone.jpg: no file" in text and "x.jpg: no file" in text
    assert "not a local file: https://example.com/a.jpg" in text
    assert "charged: maybe; amount: unknown" in text
    assert 'http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;' in text


def test_since_reads_spans_and_times():
    assert parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    assert parse_since("1970-01-01T00:01:00Z") == 60.0


def test_a_single_failed_input_still_gets_its_report(sandbox_env, tmp_path):
    make_image(tmp_path / "face.jpg")
    sandbox_env.fail_next_task("error_no_face", "No face detected")
    run = run_cli("enhance", "face.jpg", "--report", "one.html")
    assert run.code == 6, run.stderr
    text = (tmp_path / "one.html").read_text()
    assert "Show failures only (1)" in text and "error_no_face: No face detected" in text
    refused = run_cli("enhance", "face.jpg", "--report", "out/")
    assert refused.code == 2 or refused.code == 4
    assert "--report out/: give a file name" in refused.stderr
