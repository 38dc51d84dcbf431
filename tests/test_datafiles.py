"""Job keys follow the user's files: other images in a folder, other features and fine-tunings."""
from __future__ import annotations

import os

from PIL import Image

from facebench.datafiles import files_fingerprint
from facebench.plugins import get_plugins
from facebench.tasks.base import DatasetInstance


def _folder(root, classes=("a", "b"), per_class=2):
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(root / c / f"{i}.png")
    return root


def test_fingerprint_changes_with_the_files_and_only_with_them(tmp_path):
    root = _folder(tmp_path / "imgs")
    first = files_fingerprint([root])
    assert files_fingerprint([root]) == first and files_fingerprint([str(root)]) == first
    Image.new("RGB", (8, 8)).save(root / "a" / "new.png")
    added = files_fingerprint([root])
    assert added != first
    os.remove(root / "a" / "new.png")
    assert files_fingerprint([root]) == first  # same listing, same sizes and times as before
    with open(root / "b" / "0.png", "ab") as f:  # rewritten: larger
        f.write(b"\0")
    assert files_fingerprint([root]) not in (first, added)
    assert files_fingerprint([tmp_path / "nowhere"]) != files_fingerprint([tmp_path / "elsewhere"])


def test_image_folder_instance_content_carries_the_fingerprint(tmp_path):
    datasets = get_plugins().datasets
    root = _folder(tmp_path / "imgs")
    before = DatasetInstance("mine", datasets.get("image-folder"), {"root": str(root)}).content
    assert before["files"] == files_fingerprint([root]) and before["params"] == {"root": str(root)}
    Image.new("RGB", (8, 8)).save(root / "b" / "extra.png")
    after = DatasetInstance("mine", datasets.get("image-folder"), {"root": str(root)}).content
    assert after != before
    # a registered dataset used as it is keeps its bare name in the keys
    assert DatasetInstance("digits", datasets.get("digits")).content == "digits"
