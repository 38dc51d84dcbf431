"""`facebench run --plan` never opens a network connection: it validates against the local caches and
says "would download <id>" for what a run would fetch (or refuses in one line when downloads are off).
And the text-table reader's delimiter, as a plan validates it: TSV content in a ``.txt`` is detected,
and a file read with the wrong delimiter gets a message naming the delimiter and the ``delimiter``
parameter.

The network is disabled by patching the socket layer (``connect``, ``create_connection``,
``getaddrinfo``): every attempt is recorded and refused, so a test asserts that none was made.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import refuse_network
import yaml

from facebench.cli import main
from facebench.plugins import reset_plugins_cache

pytest.importorskip("transformers")
pytest.importorskip("datasets")

ROOT = Path(__file__).resolve().parents[1]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHARS = list("好坏很不错的电影书看天气这部本今我喜欢价格太贵了服务质量一般非常满意推荐购买还会再来")
TINY = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
        "max_position_embeddings": 32}


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Connections and name lookups recorded and refused; no proxy; an empty default Hugging Face cache."""
    attempts = refuse_network(monkeypatch)
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "default-hf-cache"))
    return attempts


@pytest.fixture
def plugins_here(monkeypatch, tmp_path):
    """tmp_path importable (the tests write plugin modules there); the plugin manager rebuilt."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("FACEBENCH_PLUGINS", raising=False)
    reset_plugins_cache()
    yield
    reset_plugins_cache()


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``facebench <args>``."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def write_vocab(path: Path) -> Path:
    path.write_text("\n".join(SPECIALS + CHARS) + "\n", encoding="utf-8")
    return path


def write_table(path: Path, delimiter: str = ",", header: bool = True) -> Path:
    rows = [("这部电影很好看", "1"), ("这本书不错", "1"), ("价格太贵了", "0"), ("质量一般", "0"), ("非常满意", "1"),
            ("不推荐购买", "0")]
    lines = (["text" + delimiter + "label"] if header else []) + [t + delimiter + y for t, y in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_plugin(tmp_path: Path, name: str, models: str) -> None:
    """A config plugin module registering zoo ``name`` of text ``models`` (Python source of a tuple)."""
    (tmp_path / f"{name.replace('-', '_')}.py").write_text(
        "from facebench import hookimpl\nfrom facebench.tasks.base import ModelSpec, Zoo\n\n"
        f"@hookimpl\ndef facebench_zoos():\n    return [Zoo({name!r}, 'test zoo', 'text', {models})]\n")


def write_config(tmp_path: Path, zoo: str, table: Path, download: bool, **params) -> Path:
    raw = {"name": "offline", "download": download, "plugins": [zoo.replace("-", "_")], "metrics": ["logme"],
           "datasets": {"mine": {"type": "text-table", "train": str(table), "test": str(table), **params}},
           "benchmarks": [{"task": "text", "zoo": zoo, "targets": ["mine"], "seeds": [0],
                           "options": {"max_length": 16, "num_threads": 1}}]}
    path = tmp_path / "offline.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def plan_args(tmp_path: Path, config: Path, *extra: str) -> list[str]:
    return ["run", str(config), "--plan", "--store", str(tmp_path / "store.sqlite"),
            "--cache-dir", str(tmp_path / "cache"), *extra]


# -- the paper's text config --------------------------------------------------------------------------------
def test_paper_text_plan_says_what_it_would_download_without_a_network_call(tmp_path, capsys, no_network):
    code, out, err = run_cli(capsys, *plan_args(tmp_path, ROOT / "configs/paper/text.yaml"))
    assert code == 0 and "Traceback" not in err, err
    for what in ("sijunhe/nezha-cn-base", "hfl/chinese-roberta-wwm-ext", "clue/clue (tnews)", "clue/clue (iflytek)"):
        assert f"would download {what}" in out
    assert "pretrain  pretrain nezha" in out
    assert no_network == [], f"the plan tried the network: {no_network[:3]}"
    assert not (tmp_path / "store.sqlite").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("config", ["imagenet-15", "homogeneous-21"])
def test_paper_classification_plans_with_downloads_allowed_make_no_network_call(config, tmp_path, capsys, no_network):
    code, out, err = run_cli(capsys, *plan_args(tmp_path, ROOT / f"configs/paper/{config}.yaml", "--allow-download"))
    assert code == 0 and "job(s) would run" in out, err
    assert no_network == []


# -- a hub text model -------------------------------------------------------------------------------------
HUB_BERT = "(ModelSpec('bert-base-chinese', 'bert', 'hub:bert-base-chinese'),)"


def test_hub_model_not_cached_would_download(tmp_path, capsys, no_network, plugins_here):
    write_plugin(tmp_path, "hub-zoo", HUB_BERT)
    config = write_config(tmp_path, "hub-zoo", write_table(tmp_path / "t.csv"), download=True)
    code, out, err = run_cli(capsys, *plan_args(tmp_path, config))
    assert code == 0, err
    assert "would download bert-base-chinese (hub checkpoint, not in the Hugging Face cache)" in out
    assert "extract   extract bert-base-chinese on mine" in out
    assert no_network == []


def test_hub_model_not_cached_without_downloads_is_refused_in_one_line(tmp_path, capsys, no_network, plugins_here):
    write_plugin(tmp_path, "hub-zoo", HUB_BERT)
    config = write_config(tmp_path, "hub-zoo", write_table(tmp_path / "t.csv"), download=False)
    code, out, err = run_cli(capsys, *plan_args(tmp_path, config))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "bert-base-chinese" in err and "not in the Hugging Face cache" in err and "--allow-download" in err
    assert no_network == []


def _snapshot(cache: Path, repo: str) -> Path:
    """A hub snapshot as huggingface_hub lays it out: a tiny BERT with its tokenizer."""
    import torch
    import transformers

    revision = "0" * 40
    base = cache / f"models--{repo.replace('/', '--')}"
    folder = base / "snapshots" / revision
    folder.mkdir(parents=True)
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(revision)
    vocab = write_vocab(folder / "vocab-src.txt")
    torch.manual_seed(0)
    transformers.BertModel(transformers.BertConfig(vocab_size=len(SPECIALS) + len(CHARS), **TINY)).save_pretrained(folder)
    transformers.BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    vocab.unlink()
    return folder


def test_a_cached_hub_snapshot_validates_and_loads_offline(tmp_path, capsys, no_network, plugins_here):
    """In <cache_dir>/hub: the plan validates it (vocabulary included) with downloads off, and the jobs'
    tokenizer and backbone load from it without a network call."""
    folder = _snapshot(tmp_path / "cache" / "hub", "someone/tiny-bert")
    write_plugin(tmp_path, "cached-zoo", "(ModelSpec('tiny', 'bert', 'hub:someone/tiny-bert'),)")
    config = write_config(tmp_path, "cached-zoo", write_table(tmp_path / "t.csv"), download=False)
    code, out, err = run_cli(capsys, *plan_args(tmp_path, config))
    assert code == 0, err
    assert "would download" not in out and "extract   extract tiny on mine" in out

    from facebench.tasks.base import ModelSpec
    from facebench.tasks.text.models import build_backbone, hub_snapshot, load_tokenizer

    ctx = type("Ctx", (), {"cache_dir": tmp_path / "cache", "download": False})()
    spec = ModelSpec("tiny", "bert", "hub:someone/tiny-bert")
    assert hub_snapshot(spec, ctx) == folder
    tokenizer = load_tokenizer(spec, ctx)
    backbone = build_backbone(spec, ctx, len(tokenizer))
    assert len(tokenizer) == len(SPECIALS) + len(CHARS) and backbone.config.hidden_size == 16
    assert no_network == []


def test_a_vocabulary_problem_is_still_found_for_a_cached_snapshot(tmp_path, capsys, no_network, plugins_here):
    _snapshot(tmp_path / "cache" / "hub", "someone/tiny-bert")
    write_plugin(tmp_path, "cached-zoo", "(ModelSpec('tiny', 'bert', 'hub:someone/tiny-bert'),)")
    table = tmp_path / "latin.csv"
    table.write_text("text,label\nxyz qrs,0\nabc def,1\n", encoding="utf-8")
    code, _, err = run_cli(capsys, *plan_args(tmp_path, write_config(tmp_path, "cached-zoo", table, download=False)))
    assert code == 2 and "unknown to the model's vocabulary" in err and err.count("\n") == 1, err
    assert no_network == []


# -- the text-table reader's delimiter ---------------------------------------------------------------------
def _local_zoo(tmp_path: Path) -> str:
    vocab = write_vocab(tmp_path / "vocab.txt")
    write_plugin(tmp_path, "local-zoo", f"(ModelSpec('tiny', 'bert', None, options={{**{TINY!r}, 'vocab': {str(vocab)!r}}}),)")
    return "local-zoo"


def test_tsv_content_in_a_txt_file_is_detected(tmp_path, capsys, no_network, plugins_here):
    from facebench.tasks.text.datasets.files import _delimiter, load_table

    table = write_table(tmp_path / "reviews.txt", "\t")
    assert _delimiter({}, table) == "\t"
    code, out, err = run_cli(capsys, *plan_args(tmp_path, write_config(tmp_path, _local_zoo(tmp_path), table, False)))
    assert code == 0, err
    data = load_table("train", None, train=str(table), test=str(table))
    assert data.dataset["text"][0] == "这部电影很好看" and data.classes == ["0", "1"]
    assert no_network == []


def test_a_comma_separated_txt_is_still_read_with_commas(tmp_path):
    from facebench.tasks.text.datasets.files import _delimiter, table_rows

    table = write_table(tmp_path / "reviews.txt", ",")
    assert _delimiter({}, table) == ","
    assert table_rows(table, {})[0][1:] == ("这部电影很好看", "1")


@pytest.mark.parametrize("name,header,params,needle", [
    ("headerless.csv", False, {"header": False, "text_column": 1, "label_column": 0}, "line 1 has 1 field(s), needs column 1"),
    ("header.csv", True, {}, "no text column 'text' in the header"),
])
def test_a_wrong_delimiter_is_named_with_the_parameter(tmp_path, capsys, no_network, plugins_here, name, header,
                                                       params, needle):
    """A TSV in a .csv file is read with commas: the one-line error says so and names `delimiter`."""
    table = tmp_path / name
    lines = ["label\ttext"] if header else []
    table.write_text("\n".join(lines + ["1\t这部电影很好看", "0\t价格太贵了"]) + "\n", encoding="utf-8")
    config = write_config(tmp_path, _local_zoo(tmp_path), table, False, **params)
    code, _, err = run_cli(capsys, *plan_args(tmp_path, config))
    assert code == 2 and err.count("\n") == 1, err
    assert needle in err and "delimiter ','" in err and "'delimiter' parameter" in err
    config = write_config(tmp_path, "local-zoo", table, False, **params, delimiter="\t")
    assert run_cli(capsys, *plan_args(tmp_path, config))[0] == 0


@pytest.mark.parametrize("given,expected", [("\t", "\t"), ("\\t", "\t"), (";", ";")])
def test_the_delimiter_parameter(tmp_path, given, expected):
    from facebench.tasks.text.datasets.files import _delimiter

    assert _delimiter({"delimiter": given}, tmp_path / "x.csv") == expected


def test_a_delimiter_of_several_characters_is_refused(tmp_path):
    from facebench.errors import ConfigError
    from facebench.tasks.text.datasets.files import check_table

    table = write_table(tmp_path / "t.csv")
    with pytest.raises(ConfigError, match=r"delimiter .*one character.*got ', '"):
        check_table(None, train=str(table), test=str(table), delimiter=", ")


def test_json_lines_and_tables_load_without_a_network_call(tmp_path, no_network):
    """HF datasets' loaders of local files send a download-count request unless told not to."""
    from facebench.tasks.text.datasets.files import load_clue, load_table

    f = tmp_path / "t.json"
    f.write_text("".join(json.dumps({"sentence": t, "label": y}, ensure_ascii=False) + "\n"
                         for t, y in (("好看", "1"), ("难看", "0"))), encoding="utf-8")
    assert load_clue("train", None, train=str(f), test=str(f)).classes == ["0", "1"]
    table = write_table(tmp_path / "t.csv")
    assert len(load_table("test", None, train=str(table), test=str(table)).dataset) == 6
    assert no_network == []


def test_a_text_column_of_numbers_stays_text(tmp_path):
    """pandas would read "007" as the integer 7 (and the tokenizer would get an int)."""
    from facebench.tasks.text.datasets.files import load_table

    table = tmp_path / "n.csv"
    table.write_text("text,label\n007,a\n42,b\n", encoding="utf-8")
    data = load_table("train", None, train=str(table), test=str(table))
    assert data.dataset["text"] == ["007", "42"] and data.dataset["label"] == [0, 1]
