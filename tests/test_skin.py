"""Skin analysis: the concern rules are enforced before upload, a hostile result ZIP
writes nothing, and the scores and overlays match what the API documents."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from ycecli.errors import ApiError, InvalidInput, OutputExists
from ycecli.features.analysis import (
    HD_CONCERNS,
    PRESETS,
    SD_CONCERNS,
    check_concerns,
    is_hd,
    mask_file_name,
)
from ycecli.hooks.skin_results import ScoreRow, extract_zip, make_overlays, read_scores
from ycecli.sandbox.skinzip import build_skin_zip, build_zip_slip, check_dst_actions

# Verbatim from CATALOG.md 2.3 (003:948 and 003:1080).
HD_SAMPLE = '{"hd_redness":{"raw_score":72.011962890625,"ui_score":77,"output_mask_name":"hd_redness_output.png"},"hd_oiliness":{"raw_score":60.74365234375,"ui_score":72,"output_mask_name":"hd_oiliness_output.png"},"hd_age_spot":{"raw_score":83.23274230957031,"ui_score":77,"output_mask_name":"hd_age_spot_output.png"},"hd_radiance":{"raw_score":76.57244205474854,"ui_score":79,"output_mask_name":"hd_radiance_output.png"},"hd_moisture":{"raw_score":48.694559931755066,"ui_score":70,"output_mask_name":"hd_moisture_output.png"},"hd_dark_circle":{"raw_score":80.1993191242218,"ui_score":76,"output_mask_name":"hd_dark_circle_output.png"},"hd_eye_bag":{"raw_score":76.67280435562134,"ui_score":79,"output_mask_name":"hd_eye_bag_output.png"},"hd_droopy_upper_eyelid":{"raw_score":79.05348539352417,"ui_score":80,"output_mask_name":"hd_droopy_upper_eyelid_output.png"},"hd_droopy_lower_eyelid":{"raw_score":79.97175455093384,"ui_score":81,"output_mask_name":"hd_droopy_lower_eyelid_output.png"},"hd_firmness":{"raw_score":89.66898322105408,"ui_score":85,"output_mask_name":"hd_firmness_output.png"},"hd_texture":{"whole":{"raw_score":66.3921568627451,"ui_score":75,"output_mask_name":"hd_texture_output.png"}},"hd_acne":{"whole":{"raw_score":59.92677688598633,"ui_score":76,"output_mask_name":"hd_acne_output.png"}},"hd_pore":{"forehead":{"raw_score":79.59770965576172,"ui_score":80,"output_mask_name":"hd_pore_output_forehead.png"},"nose":{"raw_score":29.139814376831055,"ui_score":58,"output_mask_name":"hd_pore_output_nose.png"},"cheek":{"raw_score":44.11081314086914,"ui_score":65,"output_mask_name":"hd_pore_output_cheek.png"},"whole":{"raw_score":49.23978805541992,"ui_score":67,"output_mask_name":"hd_pore_output_all.png"}},"hd_wrinkle":{"forehead":{"raw_score":55.96956729888916,"ui_score":67,"output_mask_name":"hd_wrinkle_output_forehead.png"},"glabellar":{"raw_score":76.7251181602478,"ui_score":75,"output_mask_name":"hd_wrinkle_output_glabellar.png"},"crowfeet":{"raw_score":83.4361481666565,"ui_score":78,"output_mask_name":"hd_wrinkle_output_crowfeet.png"},"periocular":{"raw_score":67.88706302642822,"ui_score":72,"output_mask_name":"hd_wrinkle_output_periocular.png"},"nasolabial":{"raw_score":74.03312683105469,"ui_score":74,"output_mask_name":"hd_wrinkle_output_nasolabial.png"},"marionette":{"raw_score":71.94477319717407,"ui_score":73,"output_mask_name":"hd_wrinkle_output_marionette.png"},"whole":{"raw_score":49.64699745178223,"ui_score":65,"output_mask_name":"hd_wrinkle_output_all.png"}}}'  # noqa: E501
SD_SAMPLE = '{"wrinkle":{"raw_score":36.09360456466675,"ui_score":60,"output_mask_name":"wrinkle_output.png"},"droopy_upper_eyelid":{"raw_score":79.05348539352417,"ui_score":80,"output_mask_name":"droopy_upper_eyelid_output.png"},"droopy_lower_eyelid":{"raw_score":79.97175455093384,"ui_score":81,"output_mask_name":"droopy_lower_eyelid_output.png"},"firmness":{"raw_score":89.66898322105408,"ui_score":85,"output_mask_name":"firmness_output.png"},"acne":{"raw_score":92.29713000000001,"ui_score":88,"output_mask_name":"acne_output.png"},"moisture":{"raw_score":48.694559931755066,"ui_score":70,"output_mask_name":"moisture_output.png"},"eye_bag":{"raw_score":76.67280435562134,"ui_score":79,"output_mask_name":"eye_bag_output.png"},"dark_circle_v2":{"raw_score":80.1993191242218,"ui_score":76,"output_mask_name":"dark_circle_v2_output.png"},"age_spot":{"raw_score":83.23274230957031,"ui_score":77,"output_mask_name":"age_spot_output.png"},"radiance":{"raw_score":76.57244205474854,"ui_score":79,"output_mask_name":"radiance_output.png"},"redness":{"raw_score":72.011962890625,"ui_score":77,"output_mask_name":"redness_output.png"},"oiliness":{"raw_score":60.74365234375,"ui_score":72,"output_mask_name":"oiliness_output.png"},"pore":{"raw_score":88.38014125823975,"ui_score":84,"output_mask_name":"pore_output.png"},"texture":{"raw_score":80.09742498397827,"ui_score":76,"output_mask_name":"texture_output.png"}}'  # noqa: E501

# The mask files of the doc's ZIP listings (003:849).
HD_MASKS = {
    *(f"hd_{name}_output.png" for name in ("acne", "age_spot", "dark_circle", "texture")),
    *(f"hd_{n}_output.png" for n in ("droopy_lower_eyelid", "droopy_upper_eyelid", "eye_bag")),
    *(f"hd_{n}_output.png" for n in ("firmness", "moisture", "oiliness", "radiance", "redness")),
    *(f"hd_pore_output_{area}.png" for area in ("all", "cheek", "forehead", "nose")),
    *(
        f"hd_wrinkle_output_{area}.png"
        for area in (
            "all",
            "crowfeet",
            "forehead",
            "glabellar",
            "marionette",
            "nasolabial",
            "periocular",
        )
    ),
}
SD_MASKS = {f"{name}_output.png" for name in SD_CONCERNS}


def photo_bytes(size=(120, 160)) -> bytes:
    """A portrait photo with a gradient, so an overlay visibly differs from it."""
    from PIL import Image

    img = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG")
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# --- concerns --------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_accepted_by_our_check_and_the_sandbox(preset):
    concerns = check_concerns(PRESETS[preset])
    assert concerns == PRESETS[preset]
    assert len(concerns) == int(preset.split("-")[1])
    assert is_hd(concerns) == preset.startswith("hd")
    assert check_dst_actions(list(concerns)) is None


def test_presets_follow_the_doc_sample_and_pair_sd_with_hd():
    assert PRESETS["hd-4"] == ("hd_wrinkle", "hd_pore", "hd_texture", "hd_acne")
    assert PRESETS["sd-14"] == SD_CONCERNS and PRESETS["hd-14"] == HD_CONCERNS
    assert "hd_dark_circle" in HD_CONCERNS and "hd_dark_circle_v2" not in HD_CONCERNS


def test_names_are_forgiving_about_case_commas_dashes_and_presets():
    assert check_concerns(["Wrinkle, pore", "TEXTURE", "acne"]) == PRESETS["sd-4"]
    assert (
        check_concerns("wrinkle,pore,texture,acne,oiliness,radiance,eye-bag") == (PRESETS["sd-7"])
    )
    assert check_concerns(["hd-7"]) == PRESETS["hd-7"]


def test_five_concerns_are_refused_with_the_allowed_counts():
    with pytest.raises(InvalidInput) as info:
        check_concerns(SD_CONCERNS[:5])
    assert "5 skin concerns" in info.value.message
    assert "4, 7 or 14" in info.value.message
    assert "sd-4" in info.value.hint


def test_no_concerns_at_all_are_refused():
    with pytest.raises(InvalidInput, match="0 skin concerns"):
        check_concerns([])


def test_sd_and_hd_cannot_be_mixed():
    with pytest.raises(InvalidInput) as info:
        check_concerns(["wrinkle", "pore", "texture", "hd_acne"])
    assert "cannot be mixed" in info.value.message
    assert "hd_acne" in info.value.message


@pytest.mark.parametrize(
    "names, typo, suggestion",
    [
        (["wrinkel", "pore", "texture", "acne"], "wrinkel", "wrinkle"),
        (["dark_circle", "pore", "texture", "acne"], "dark_circle", "dark_circle_v2"),
        (["hd_dark_circle_v2", "hd_pore", "hd_texture", "hd_acne"], "hd_dark_circle_v2", None),
        (["hd_wrinkles", "hd_pore", "hd_texture", "hd_acne"], "hd_wrinkles", "hd_wrinkle"),
    ],
)
def test_unknown_names_are_refused_with_the_closest_known_name(names, typo, suggestion):
    with pytest.raises(InvalidInput) as info:
        check_concerns(names)
    assert f'"{typo}"' in info.value.message
    assert "Did you mean" in info.value.hint
    if suggestion:
        assert f'"{suggestion}" for "{typo}"' in info.value.hint
    else:
        assert '"hd_dark_circle" for' in info.value.hint


def test_nonsense_is_refused_without_a_silly_suggestion():
    with pytest.raises(InvalidInput) as info:
        check_concerns(["abc123", "pore", "texture", "acne"])
    assert "Did you mean" not in info.value.hint
    assert "wrinkle" in info.value.hint  # the known names are listed instead


def test_duplicates_are_an_error_not_silently_dropped():
    with pytest.raises(InvalidInput) as info:
        check_concerns(["wrinkle", "pore", "pore", "texture", "acne"])
    assert "more than once" in info.value.message and "pore" in info.value.message


def test_sandbox_answers_bad_dst_actions_with_the_documented_messages():
    assert check_dst_actions(["abc123"]) == "Not available dst_action abc123"
    assert check_dst_actions(list(SD_CONCERNS[:5])) == (
        "must select 4, 7 or 14 distinct dst_actions"
    )
    assert check_dst_actions(["wrinkle", "wrinkle", "pore", "acne"]) == (
        "must select 4, 7 or 14 distinct dst_actions"
    )
    assert check_dst_actions(["wrinkle", "pore", "texture", "hd_acne"]) == (
        "cannot mix HD and SD dst_actions"
    )


# --- extraction ------------------------------------------------------------------


def test_a_result_zip_unpacks_scores_and_masks_under_the_target(tmp_path):
    zip_path = write(tmp_path / "result.zip", build_skin_zip(photo_bytes(), PRESETS["hd-14"]))
    target = tmp_path / "out" / "result"
    written = extract_zip(zip_path, target)
    folder = target / "skinanalysisResult"
    assert set(written) == {folder / "score_info.json", *(folder / m for m in HD_MASKS)}
    assert all(path.is_file() for path in written)
    assert all_files(tmp_path / "out") == {"result", *(f"result/{p}" for p in all_files(target))}


def test_a_zip_for_four_concerns_holds_only_their_keys_and_masks(tmp_path):
    zip_path = write(tmp_path / "r.zip", build_skin_zip(photo_bytes(), PRESETS["sd-4"]))
    with zipfile.ZipFile(zip_path) as zf:
        names = {Path(n).name for n in zf.namelist() if not n.endswith("/")}
        scores = json.loads(zf.read("skinanalysisResult/score_info.json"))
    assert set(scores) == set(PRESETS["sd-4"])
    assert names == {"score_info.json", *(f"{c}_output.png" for c in PRESETS["sd-4"])}


def test_the_sandbox_result_is_deterministic_and_depends_on_the_photo():
    first = build_skin_zip(photo_bytes(), PRESETS["sd-7"])
    assert first == build_skin_zip(photo_bytes(), PRESETS["sd-7"])
    assert first != build_skin_zip(photo_bytes((160, 120)), PRESETS["sd-7"])


def test_masks_are_rgba_the_size_of_the_photo_with_something_to_see(tmp_path):
    from PIL import Image

    zip_path = write(tmp_path / "r.zip", build_skin_zip(photo_bytes((90, 130)), PRESETS["hd-4"]))
    for path in extract_zip(zip_path, tmp_path / "out"):
        if path.suffix == ".png":
            with Image.open(path) as mask:
                assert mask.mode == "RGBA" and mask.size == (90, 130)
                low, high = mask.getchannel("A").getextrema()
                assert low == 0 and high > 0


def assert_refused_cleanly(tmp_path, zip_bytes, fragment, **kwargs):
    """The ZIP is refused, and the folder the target would live in is left as it was."""
    zip_path = write(tmp_path / "hostile.zip", zip_bytes)
    parent = tmp_path / "out"
    parent.mkdir()
    target = parent / "result"
    before = all_files(tmp_path)
    with pytest.raises(ApiError) as info:
        extract_zip(zip_path, target, **kwargs)
    assert fragment in info.value.message
    assert "Nothing was extracted" in info.value.hint
    assert not target.exists()
    assert all_files(tmp_path) == before
    return info.value


def test_zip_slip_is_refused_and_nothing_lands_outside_or_inside(tmp_path):
    assert_refused_cleanly(tmp_path, build_zip_slip(), "climbs out")
    assert not (tmp_path / "out" / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize(
    "name",
    ["skinanalysisResult/../../evil.txt", "..\\evil.txt", "a/b/../../../evil.txt"],
)
def test_other_climbing_entries_are_refused(tmp_path, name):
    assert_refused_cleanly(tmp_path, build_zip_slip(name), "..")


def test_an_absolute_entry_is_refused(tmp_path):
    outside = tmp_path / "absolute_evil.txt"
    assert_refused_cleanly(tmp_path, build_zip_slip(str(outside)), "absolute path")
    assert not outside.exists()


@pytest.mark.parametrize("name", ["C:/evil.txt", "c:evil.txt", "\\evil.txt"])
def test_windows_absolute_entries_are_refused(tmp_path, name):
    assert_refused_cleanly(tmp_path, build_zip_slip(name), "absolute path")


def test_a_symlink_entry_is_refused(tmp_path):
    zip_bytes = build_zip_slip("skinanalysisResult/link.png", symlink_target="/etc/passwd")
    assert_refused_cleanly(tmp_path, zip_bytes, "symbolic link")


def test_a_device_or_fifo_entry_is_refused(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        info = zipfile.ZipInfo("skinanalysisResult/pipe")
        info.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(info, b"")
    assert_refused_cleanly(tmp_path, out.getvalue(), "not a regular file")


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path):
    zip_bytes = build_skin_zip(photo_bytes(), PRESETS["sd-4"])
    assert_refused_cleanly(tmp_path, zip_bytes, "more than 1000 bytes", max_total_bytes=1000)


def test_too_many_entries_are_refused(tmp_path):
    zip_bytes = build_skin_zip(photo_bytes(), PRESETS["sd-14"])
    assert_refused_cleanly(tmp_path, zip_bytes, "more than the 5 allowed", max_entries=5)


def test_an_entry_larger_than_its_header_says_is_refused(tmp_path):
    """A lying header is caught while unpacking, after earlier entries were already
    unpacked; those are removed too."""
    zip_bytes = build_skin_zip(photo_bytes(), PRESETS["sd-4"])
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        last = zf.infolist()[-1]
    name = last.filename.encode()
    patched = bytearray(zip_bytes)
    # Shrink the declared size of the last entry in its local and central headers.
    for header, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := patched.find(header, start)) != -1:
            if patched[start + name_offset : start + name_offset + len(name)] == name:
                size = slice(start + size_offset, start + size_offset + 4)
                assert patched[size] == last.file_size.to_bytes(4, "little")
                patched[size] = (10).to_bytes(4, "little")
            start += 4
    assert_refused_cleanly(tmp_path, bytes(patched), "cannot be unpacked")


def test_a_truncated_download_is_refused(tmp_path):
    zip_bytes = build_skin_zip(photo_bytes(), PRESETS["sd-4"])
    assert_refused_cleanly(tmp_path, zip_bytes[: len(zip_bytes) // 2], "not a readable ZIP")


def test_unpacking_into_an_existing_folder_never_replaces_files_unasked(tmp_path):
    zip_path = write(tmp_path / "r.zip", build_skin_zip(photo_bytes(), PRESETS["sd-4"]))
    target = tmp_path / "out"
    extract_zip(zip_path, target)
    (target / "notes.txt").write_text("mine")
    score_file = target / "skinanalysisResult" / "score_info.json"
    score_file.write_text("{}")
    with pytest.raises(OutputExists, match="score_info.json already exists"):
        extract_zip(zip_path, target)
    assert score_file.read_text() == "{}"
    written = extract_zip(zip_path, target, overwrite=True)
    assert score_file in written and json.loads(score_file.read_text())
    assert (target / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


# --- scores ----------------------------------------------------------------------


def test_sd_sample_scores_are_flat_rows_in_the_file_order(tmp_path):
    write(tmp_path / "score_info.json", SD_SAMPLE.encode())
    rows = read_scores(tmp_path)
    assert [row.concern for row in rows] == list(json.loads(SD_SAMPLE))
    assert all(row.area is None for row in rows)
    assert rows[0] == ScoreRow("wrinkle", None, 36.09360456466675, 60, "wrinkle_output.png")
    assert isinstance(rows[0].raw_score, float) and isinstance(rows[0].ui_score, int)


def test_hd_sample_scores_include_every_nested_area(tmp_path):
    folder = tmp_path / "skinanalysisResult"
    folder.mkdir()
    write(folder / "score_info.json", HD_SAMPLE.encode())
    rows = read_scores(tmp_path)
    assert len(rows) == 10 + 1 + 1 + 4 + 7
    by_key = {(row.concern, row.area): row for row in rows}
    assert by_key[("hd_redness", None)].ui_score == 77
    assert by_key[("hd_texture", "whole")].mask == "hd_texture_output.png"
    assert by_key[("hd_pore", "nose")] == ScoreRow(
        "hd_pore", "nose", 29.139814376831055, 58, "hd_pore_output_nose.png"
    )
    assert by_key[("hd_pore", "whole")].mask == "hd_pore_output_all.png"
    wrinkle_areas = [row.area for row in rows if row.concern == "hd_wrinkle"]
    assert wrinkle_areas == [
        "forehead",
        "glabellar",
        "crowfeet",
        "periocular",
        "nasolabial",
        "marionette",
        "whole",
    ]
    assert {row.mask for row in rows} == HD_MASKS
    assert {mask_file_name(row.concern, row.area) for row in rows} == HD_MASKS


def test_scores_read_the_same_from_the_zip_and_the_unpacked_folder(tmp_path):
    zip_path = write(tmp_path / "r.zip", build_skin_zip(photo_bytes(), PRESETS["hd-14"]))
    extract_zip(zip_path, tmp_path / "out")
    rows = read_scores(zip_path)
    assert rows == read_scores(tmp_path / "out")
    assert rows == read_scores(tmp_path / "out" / "skinanalysisResult" / "score_info.json")
    assert {row.mask for row in rows} == HD_MASKS
    assert all(1 <= row.raw_score <= 100 and 1 <= row.ui_score <= 100 for row in rows)


def test_sd_zip_scores_name_every_sd_mask(tmp_path):
    zip_path = write(tmp_path / "r.zip", build_skin_zip(photo_bytes(), PRESETS["sd-14"]))
    rows = read_scores(zip_path)
    assert {row.mask for row in rows} == SD_MASKS
    assert all(row.area is None for row in rows)


def test_unknown_extra_keys_are_skipped(tmp_path):
    data = json.loads(SD_SAMPLE)
    data = {"all": {"score": 75.3}, "skin_age": 31, "version": "2", **data}
    data["wrinkle"]["confidence"] = 0.9
    write(tmp_path / "score_info.json", json.dumps(data).encode())
    rows = read_scores(tmp_path / "score_info.json")
    assert [row.concern for row in rows] == list(json.loads(SD_SAMPLE))


def test_a_damaged_score_file_is_reported_with_the_key(tmp_path):
    write(tmp_path / "score_info.json", b'{"pore": {"raw_score": "high", "ui_score": 3}}')
    with pytest.raises(ApiError, match="pore.raw_score"):
        read_scores(tmp_path)
    write(tmp_path / "score_info.json", b"{not json")
    with pytest.raises(ApiError, match="not valid JSON"):
        read_scores(tmp_path)


def test_a_folder_without_scores_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="holds no score_info.json"):
        read_scores(tmp_path)


# --- overlays --------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["sd-7", "hd-14"])
def test_overlays_one_per_mask_plus_a_contact_sheet(tmp_path, preset):
    from PIL import Image

    photo = write(tmp_path / "face.jpg", photo_bytes((120, 160)))
    zip_path = write(tmp_path / "r.zip", build_skin_zip(photo.read_bytes(), PRESETS[preset]))
    extract_zip(zip_path, tmp_path / "result")
    rows = read_scores(tmp_path / "result")
    written = make_overlays(photo, tmp_path / "result", rows, tmp_path / "overlays")
    expected = [
        f"{row.concern}_{row.area}_overlay.png" if row.area else f"{row.concern}_overlay.png"
        for row in rows
    ]
    assert [path.name for path in written] == [*expected, "contact_sheet.png"]
    assert sorted(p.name for p in (tmp_path / "overlays").iterdir()) == sorted(
        [*expected, "contact_sheet.png"]
    )
    with Image.open(photo) as original:
        original_pixels = original.convert("RGB").tobytes()
    for path in written[:-1]:
        with Image.open(path) as overlay:
            assert overlay.size == (120, 160)
            assert overlay.convert("RGB").tobytes() != original_pixels
    with Image.open(written[-1]) as sheet:
        assert sheet.width >= 256 and sheet.height >= 256


def test_contact_sheet_starts_with_the_photo_and_reads_at_a_glance(tmp_path):
    from PIL import Image

    from ycecli.hooks.skin_results import THUMB_SIDE, score_colour

    # A photo of one flat colour, unlike anything else on the sheet.
    photo = tmp_path / "face.jpg"
    Image.new("RGB", (120, 160), (30, 90, 200)).save(photo)
    zip_path = write(tmp_path / "r.zip", build_skin_zip(photo.read_bytes(), PRESETS["sd-4"]))
    extract_zip(zip_path, tmp_path / "result")
    rows = read_scores(tmp_path / "result")
    written = make_overlays(photo, tmp_path / "result", rows, tmp_path / "overlays")
    with Image.open(written[-1]) as sheet:
        sheet = sheet.convert("RGB")
    # Five tiles (the photo and four overlays) of THUMB_SIDE, three to a row, under a
    # title and a legend.
    assert 3 * THUMB_SIDE <= sheet.width < 4 * THUMB_SIDE
    assert sheet.height > 2 * THUMB_SIDE + 100

    def matching(colour, box, tolerance=12):
        region = sheet.crop(box)
        return sum(
            all(
                abs(a - b) <= tolerance
                for a, b in zip(region.getpixel((x, y)), colour, strict=True)
            )
            for x in range(0, region.width, 3)
            for y in range(0, region.height, 3)
        )

    # The photo is the first tile, whole and untinted, left of the overlays (each
    # tints part of the photo) and under the title and legend.
    first_tile = (0, 0, THUMB_SIDE + 30, sheet.height // 2)
    assert matching((30, 90, 200), first_tile) >= 0.95 * (120 // 3) * (160 // 3)
    # A legend swatch per concern, coloured by its score, near the top.
    top = (0, 0, sheet.width, THUMB_SIDE // 2)
    for row in rows:
        assert matching(score_colour(row.ui_score), top, tolerance=2) > 4, row
    # Captions in a font sized to the tiles: a line of dark text at least 14 px high.
    dark_rows = [
        y
        for y in range(sheet.height)
        if any(min(sheet.getpixel((x, y))) < 60 for x in range(0, THUMB_SIDE, 2))
    ]
    runs, start = [], None
    for y in range(sheet.height + 1):
        inside = y in dark_rows
        if inside and start is None:
            start = y
        elif not inside and start is not None:
            runs.append(y - start)
            start = None
    assert max(runs) >= 14


def test_score_colours_run_from_red_to_green():
    from ycecli.hooks.skin_results import score_colour

    low, middle, high = score_colour(1), score_colour(50), score_colour(100)
    assert low[0] > low[1] and high[1] > high[0]
    assert middle[0] > 150 and middle[1] > 150


def test_a_smaller_mask_is_stretched_to_the_photo(tmp_path):
    from PIL import Image

    photo = write(tmp_path / "face.jpg", photo_bytes((200, 300)))
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.new("RGBA", (20, 30), (255, 0, 0, 200)).save(masks / "pore_output.png")
    Image.new("L", (20, 30), 255).save(masks / "acne_output.png")  # no alpha: grey is alpha
    rows = [
        ScoreRow("pore", None, 50.0, 70, "pore_output.png"),
        ScoreRow("acne", None, 50.0, 70, "acne_output.png"),
        ScoreRow("texture", None, 50.0, 70, "texture_output.png"),  # its mask is missing
        ScoreRow("redness", None, 50.0, 70, None),
    ]
    written = make_overlays(photo, masks, rows, tmp_path / "o")
    assert [p.name for p in written] == [
        "pore_overlay.png",
        "acne_overlay.png",
        "contact_sheet.png",
    ]
    with Image.open(written[0]) as overlay:
        assert overlay.size == (200, 300)
        red, green, _ = overlay.getpixel((100, 150))
        assert red > 150 and green < 120


def test_a_mask_name_cannot_reach_outside_the_masks_folder(tmp_path):
    from PIL import Image

    photo = write(tmp_path / "face.jpg", photo_bytes())
    Image.new("RGBA", (10, 10), (0, 0, 0, 255)).save(tmp_path / "secret.png")
    (tmp_path / "masks").mkdir()
    rows = [ScoreRow("pore", "../x", 50.0, 70, "../secret.png")]
    with pytest.raises(InvalidInput, match="no mask"):
        make_overlays(photo, tmp_path / "masks", rows, tmp_path / "o")
