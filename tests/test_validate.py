from pathlib import Path

import pytest

from tests.conftest import make_image
from ycecli.errors import InvalidInput
from ycecli.features import MediaRules
from ycecli.validate import check_media, sniff_content_type


def test_type_comes_from_content_not_name(tmp_path):
    png = make_image(tmp_path / "photo.jpg", fmt="PNG")
    assert check_media(png, MediaRules()).content_type == "image/png"
    assert sniff_content_type(b"GIF89a....") == "image/gif"


@pytest.mark.parametrize(
    "rules, size, fragment",
    [
        (MediaRules(max_long_side=100), (101, 50), "long side over 100"),
        (MediaRules(min_short_side=480), (1000, 479), "short side under 480"),
        (MediaRules(content_types=("image/jpeg",)), None, "format image/png"),
    ],
)
def test_rules_name_the_file_and_the_rule(tmp_path, rules, size, fragment):
    path = make_image(tmp_path / "x.png", size=size or (10, 10), fmt="PNG")
    with pytest.raises(InvalidInput) as info:
        check_media(path, rules)
    assert fragment in info.value.message
    assert str(path) in info.value.message


def test_truncated_image_is_refused(tmp_path):
    path = make_image(tmp_path / "x.png", fmt="PNG")
    Path(path).write_bytes(path.read_bytes()[:20])
    with pytest.raises(InvalidInput, match="header cannot be read"):
        check_media(path, MediaRules())
