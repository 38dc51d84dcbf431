"""The text task's feature options and the inputs users have: feature pooling/layer against a direct
forward pass, sentence pairs, save_to_disk / Parquet / Arrow datasets, a checkpoint's own tokenizer,
head+tail truncation, and their bad input. Tiny models and a tiny vocabulary written here: no hub,
no cn-clip."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from facebench.errors import ConfigError
from facebench.plugins import get_plugins

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
datasets = pytest.importorskip("datasets")

from facebench.tasks.base import ModelSpec, Zoo  # noqa: E402
from facebench.tasks.text.options import TaskOptions  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHARS = list("好坏很不错的电影书看一二三四五六七八九十甲乙丙丁戊己庚辛壬癸,.!")
MAX_LEN = 16


def write_vocab(path: Path) -> Path:
    path.write_text("\n".join(SPECIALS + CHARS) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A 2-layer BERT checkpoint folder with its own tokenizer (36 tokens)."""
    folder = tmp_path_factory.mktemp("ckpt")
    vocab = write_vocab(folder / "vocab-src.txt")
    config = transformers.BertConfig(vocab_size=len(SPECIALS) + len(CHARS), hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(folder)
    transformers.BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    vocab.unlink()
    return folder


@pytest.fixture(scope="module")
def task():
    return get_plugins().tasks.get("text")


def ctx_for(tmp_path: Path, instances: dict, options=None):
    from facebench.runner.context import task_context
    from facebench.tasks.base import DatasetInstance

    plugins = get_plugins()
    ctx = task_context(plugins, cache_dir=tmp_path / "cache", quiet=True, download=False,
                       options={"max_length": MAX_LEN, "num_threads": 1, **(options or {})})
    ctx.instances = {n: DatasetInstance(n, plugins.datasets.get(p["type"]), {k: v for k, v in p.items() if k != "type"})
                     for n, p in instances.items()}
    return ctx


def validate(task, tmp_path, instances, model, target="d", options=None):
    ctx = ctx_for(tmp_path, instances, options)
    ctx.zoos = {**ctx.zoos, "one": Zoo("one", "", "text", (model,))}
    bench = SimpleNamespace(task="text", zoo="one", targets=(target,), seeds=(0,), finetune={},
                            options={"max_length": MAX_LEN, "num_threads": 1, **(options or {})})
    task.validate(bench, ctx)
    return ctx


def write_table(path: Path, header: list[str], rows: list[tuple]) -> str:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return str(path)


TEXTS = [("好看", 1), ("很不错的电影", 1), ("坏", 0), ("不好看的书,很坏", 0), ("一二三", 1), ("九十", 0)]


def one_line_error(fn, match):
    with pytest.raises(ConfigError, match=match) as err:
        fn()
    assert "\n" not in str(err.value)
    return str(err.value)


# -- features: pooling and layer against a direct forward pass ------------------------------------------------
def direct_features(checkpoint: Path, texts: list[str], pooling: str, layer) -> np.ndarray:
    """Computed here, independently: tokenizer and model of the folder, all hidden states."""
    tok = transformers.BertTokenizerFast.from_pretrained(checkpoint)
    model = transformers.BertModel.from_pretrained(checkpoint).eval()
    enc = tok(texts, max_length=MAX_LEN, truncation=True, padding="max_length", return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    hs = out.hidden_states  # embeddings, layer 1, layer 2
    assert len(hs) == 3
    if pooling == "cls" and layer == "last":
        return out.pooler_output.numpy()
    states = {"last": hs[2], "mean": (hs[1] + hs[2]) / 2}.get(layer) if isinstance(layer, str) else hs[layer]
    if pooling == "cls":
        return states[:, 0].numpy()
    mask = enc["attention_mask"].float()
    return ((states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)).numpy()


@pytest.mark.parametrize("pooling,layer", [("cls", "last"), ("mean", "last"), ("cls", 1), ("mean", 0), ("cls", -1),
                                           ("mean", -3), ("cls", "mean"), ("mean", "mean")])
def test_feature_pooling_and_layer_equal_a_direct_forward_pass(task, checkpoint, tmp_path, pooling, layer):
    inst = {"d": {"type": "text-table", "train": write_table(tmp_path / "d.csv", ["text", "label"], TEXTS),
                  "test": str(tmp_path / "d.csv")}}
    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    options = {} if (pooling, layer) == ("cls", "last") else {"pooling": pooling, "layer": layer}
    ctx = validate(task, tmp_path, inst, spec, options=options)
    bundle = task.extract(spec, "d", ctx)
    expected = direct_features(checkpoint, [t for t, _ in TEXTS], pooling, layer)
    assert bundle.features.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(bundle.features, expected.astype(np.float64), rtol=1e-4, atol=1e-5)
    if options:  # another feature than the default one
        default = direct_features(checkpoint, [t for t, _ in TEXTS], "cls", "last")
        assert not np.allclose(bundle.features, default, atol=1e-3)
    else:
        assert bundle.meta["features"] == "pooled [CLS] output"


def test_feature_options_are_checked(task, checkpoint, tmp_path):
    inst = {"d": {"type": "text-table", "train": write_table(tmp_path / "d.csv", ["text", "label"], TEXTS),
                  "test": str(tmp_path / "d.csv")}}
    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    one_line_error(lambda: validate(task, tmp_path, inst, spec, options={"layer": 3}),
                   r"options\.layer 3 is out of range for model 'ckpt' \(2 layers")
    one_line_error(lambda: validate(task, tmp_path, inst, spec, options={"layer": -4}), "out of range")
    one_line_error(lambda: TaskOptions.parse({"pooling": "max"}), "pooling must be one of cls, mean")
    one_line_error(lambda: TaskOptions.parse({"layer": "first"}), "layer must be last, mean or an integer")
    # the defaults add nothing to what a config hashes: the options dict stays the user's
    assert (TaskOptions.parse({}).pooling, TaskOptions.parse({}).layer) == ("cls", "last")


# -- a checkpoint's own tokenizer ------------------------------------------------------------------------------
def test_a_checkpoint_folder_uses_its_own_tokenizer_else_the_vocab_option(checkpoint, tmp_path):
    import shutil

    from facebench.tasks.text.models import load_tokenizer, vocab_path

    ctx = ctx_for(tmp_path, {})
    own = load_tokenizer(ModelSpec("ckpt", "bert", str(checkpoint)), ctx)
    assert len(own) == len(SPECIALS) + len(CHARS) and own.convert_tokens_to_ids("好") == len(SPECIALS)
    bare = tmp_path / "bare"  # weights and config only: the vocab option's BertTokenizerFast
    bare.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(checkpoint / f, bare / f)
    vocab = tmp_path / "other-vocab.txt"
    vocab.write_text("\n".join(SPECIALS + ["甲", "乙"]) + "\n", encoding="utf-8")
    spec = ModelSpec("bare", "bert", str(bare), options={"vocab": str(vocab)})
    assert vocab_path(spec) == vocab
    tok = load_tokenizer(spec, ctx)
    assert len(tok) == len(SPECIALS) + 2 and tok.convert_tokens_to_ids("乙") == len(SPECIALS) + 1
    # as a zoo file's reference: a folder without tokenizer files needs options.vocab
    from facebench.references import ModelReference
    from facebench.references import ReferenceError as RefError

    text = get_plugins().tasks.get("text")
    with pytest.raises(RefError, match="has no tokenizer files"):
        text.resolve_model(ModelReference("bare", f"hf:{bare}"), ctx)
    resolved = text.resolve_model(ModelReference("bare", f"hf:{bare}", options={"vocab": str(vocab)}), ctx)
    assert resolved.weights == str(bare) and len(load_tokenizer(resolved, ctx)) == len(SPECIALS) + 2


# -- sentence pairs ----------------------------------------------------------------------------------------------
PAIRS = [("好看", "不错", 1), ("很坏", "好", 0), ("一二三四", "五", 1), ("电影", "书", 0)]


def test_sentence_pairs_are_joined_as_pairs_by_the_tokenizer(task, checkpoint, tmp_path):
    from facebench.tasks.text.data import load_split
    from facebench.tasks.text.models import load_tokenizer

    path = write_table(tmp_path / "p.csv", ["a", "b", "label"], PAIRS)
    inst = {"d": {"type": "text-table", "train": path, "test": path, "text_column": "a", "text_pair_column": "b"}}
    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    ctx = validate(task, tmp_path, inst, spec)
    tok = load_tokenizer(spec, ctx)
    split = load_split("d", "train", ctx, TaskOptions.parse({"max_length": MAX_LEN}), tok)
    assert split.x.shape == (4, 3, MAX_LEN)
    vocab = {t: i for i, t in enumerate(SPECIALS + CHARS)}
    for row, (a, b, _) in zip(split.x.tolist(), PAIRS):
        ids = [2, *(vocab[c] for c in a), 3, *(vocab[c] for c in b), 3]  # [CLS] a [SEP] b [SEP]
        types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        pad = MAX_LEN - len(ids)
        assert row[0] == ids + [0] * pad and row[1] == [1] * len(ids) + [0] * pad and row[2] == types + [0] * pad
    bundle = task.extract(spec, "d", ctx)
    assert bundle.features.shape == (4, 16) and np.isfinite(bundle.features).all()
    # clue-json: the second text's key
    lines = [json.dumps({"sentence1": a, "sentence2": b, "label": str(y)}, ensure_ascii=False) for a, b, y in PAIRS]
    (tmp_path / "p.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    inst = {"d": {"type": "clue-json", "train": str(tmp_path / "p.json"), "test": str(tmp_path / "p.json"),
                  "text_key": "sentence1", "text_pair_key": "sentence2"}}
    ctx = validate(task, tmp_path, inst, spec)
    split2 = load_split("d", "train", ctx, TaskOptions.parse({"max_length": MAX_LEN}), tok)
    assert torch.equal(split2.x, split.x)


def test_a_pair_config_on_a_file_with_one_text_column_is_refused(task, checkpoint, tmp_path):
    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    path = write_table(tmp_path / "one.csv", ["text", "label"], TEXTS)
    inst = {"d": {"type": "text-table", "train": path, "test": path, "text_pair_column": "text_b"}}
    one_line_error(lambda: validate(task, tmp_path, inst, spec),
                   r"one\.csv: no text pair column \(text_pair_column\) 'text_b' in the header \(text, label\)")
    (tmp_path / "one.json").write_text(json.dumps({"sentence": "好", "label": "0"}) + "\n", encoding="utf-8")
    inst = {"d": {"type": "clue-json", "train": str(tmp_path / "one.json"), "test": str(tmp_path / "one.json"),
                  "text_pair_key": "sentence2"}}
    one_line_error(lambda: validate(task, tmp_path, inst, spec), r"one\.json: line 1 has no 'sentence2' key")
    # the text column itself missing, and an empty split
    inst = {"d": {"type": "text-table", "train": path, "test": path, "text_column": "review"}}
    one_line_error(lambda: validate(task, tmp_path, inst, spec), r"no text column 'review' in the header")
    empty = write_table(tmp_path / "empty.csv", ["text", "label"], [])
    inst = {"d": {"type": "text-table", "train": path, "test": empty}}
    one_line_error(lambda: validate(task, tmp_path, inst, spec), r"empty\.csv: no rows")
    # an empty second text is an empty text
    path = write_table(tmp_path / "gap.csv", ["a", "b", "label"], [("好", "", 1), ("坏", "书", 0)])
    inst = {"d": {"type": "text-table", "train": path, "test": path, "text_column": "a", "text_pair_column": "b"}}
    one_line_error(lambda: validate(task, tmp_path, inst, spec), r"gap\.csv: 1 empty or whitespace-only text")


# -- save_to_disk, Parquet and Arrow -------------------------------------------------------------------------------
def saved_pairs(folder: Path) -> Path:
    features = datasets.Features({"sentence1": datasets.Value("string"), "sentence2": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["different", "same"])})
    rows = lambda items: {"sentence1": [a for a, _, _ in items], "sentence2": [b for _, b, _ in items],  # noqa: E731
                          "label": [y for _, _, y in items]}
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows(PAIRS), features=features),
                               "validation": datasets.Dataset.from_dict(rows(PAIRS[:2]), features=features),
                               "test": datasets.Dataset.from_dict(rows([(a, b, -1) for a, b, _ in PAIRS[:2]]),
                                                                  features=features)})
    dd.save_to_disk(str(folder))
    return folder


def test_hf_dataset_reads_save_to_disk_parquet_and_arrow(task, checkpoint, tmp_path):
    from facebench.tasks.text.data import load_text

    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    opts = TaskOptions.parse({})
    folder = saved_pairs(tmp_path / "saved")
    inst = {"d": {"type": "hf-dataset", "path": str(folder), "splits": {"test": "validation"},
                  "text_column": "sentence1", "text_pair_column": "sentence2"}}
    ctx = validate(task, tmp_path, inst, spec)
    train, test = load_text("d", "train", ctx, opts), load_text("d", "test", ctx, opts)
    assert train.classes == ["different", "same"] and train.dataset["label"] == [1, 0, 1, 0]
    assert train.dataset["text_pair"] == [b for _, b, _ in PAIRS] and len(test) == 2
    assert task.extract(spec, "d", ctx).features.shape == (4, 16)
    assert ctx.instances["d"].content["files"]  # the folder's listing enters the runner's job keys
    # Parquet files (a glob), string labels: the sorted distinct labels of train
    pq = tmp_path / "pq"
    pq.mkdir()
    for name, items in (("train", TEXTS), ("test", TEXTS[:3])):
        datasets.Dataset.from_dict({"sentence": [t for t, _ in items], "label": [f"c{y}" for _, y in items]}).to_parquet(
            str(pq / f"{name}-00000-of-00001.parquet"))
    inst = {"d": {"type": "hf-dataset", "train": str(pq / "train-*.parquet"), "test": str(pq / "test-*.parquet"),
                  "text_column": "sentence"}}
    ctx = validate(task, tmp_path, inst, spec)
    data = load_text("d", "train", ctx, opts)
    assert data.classes == ["c0", "c1"] and data.dataset["text"] == [t for t, _ in TEXTS]
    assert data.dataset["label"] == [y for _, y in TEXTS]
    # the Arrow files that save_to_disk wrote, and a Dataset.save_to_disk folder per split
    arrows = sorted((folder / "train").glob("*.arrow"))
    inst = {"d": {"type": "hf-dataset", "train": [str(a) for a in arrows], "test": str(folder / "validation"),
                  "text_column": "sentence1", "text_pair_column": "sentence2"}}
    ctx = validate(task, tmp_path, inst, spec)
    assert load_text("d", "train", ctx, opts).dataset["label"] == [1, 0, 1, 0]
    assert load_text("d", "test", ctx, opts).classes == ["different", "same"]


@pytest.mark.parametrize("case,match", [
    ("column", r"saved \[train\]: no text column 'sentence' \(columns: sentence1, sentence2, label\)"),
    ("pair", r"no text pair column \(text_pair_column\) 'sentence3'"),
    ("hidden-labels", r"saved \[test\]: 2 row\(s\) with label -1, not a class index 0\.\.1 .*use its validation split"),
    ("split", r"saved: no split 'dev' \(splits: train, validation, test\)"),
    ("empty", r"the train split is empty"),
    ("not-saved", r"not a dataset saved with save_to_disk"),
    ("unknown", r"hf-dataset: unknown parameter\(s\) text_key"),
    ("both", r"either path .* or train and test, not both"),
    ("suffix", r"cannot tell the format from the suffixes"),
])
def test_hf_dataset_bad_input_is_one_line(task, checkpoint, tmp_path, case, match):
    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    folder = saved_pairs(tmp_path / "saved")
    params = {"type": "hf-dataset", "path": str(folder), "text_column": "sentence1", "text_pair_column": "sentence2",
              "splits": {"test": "validation"}}
    if case == "column":
        params["text_column"] = "sentence"
    elif case == "pair":
        params["text_pair_column"] = "sentence3"
    elif case == "hidden-labels":
        params["splits"] = {}
    elif case == "split":
        params["splits"] = {"test": "dev"}
    elif case == "empty":
        empty = tmp_path / "empty"
        datasets.Dataset.from_dict({"sentence1": [], "sentence2": [], "label": []}).save_to_disk(str(empty))
        params = {k: v for k, v in params.items() if k not in ("path", "splits")}
        params.update(train=str(empty), test=str(folder / "validation"))
    elif case == "not-saved":
        (tmp_path / "plain").mkdir()
        params["path"] = str(tmp_path / "plain")
    elif case == "unknown":
        params["text_key"] = "x"
    elif case == "both":
        params["train"] = str(folder / "train")
    elif case == "suffix":
        (tmp_path / "x.csv").write_text("text,label\n好,0\n")
        params = {"type": "hf-dataset", "train": str(tmp_path / "x.csv"), "test": str(tmp_path / "x.csv")}
    one_line_error(lambda: validate(task, tmp_path, {"d": params}, spec), match)


# -- head+tail truncation ------------------------------------------------------------------------------------------
def test_head_tail_truncation_keeps_the_head_and_the_tail(task, checkpoint, tmp_path):
    from facebench.tasks.text.data import load_split
    from facebench.tasks.text.models import load_tokenizer

    long_text = "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸"  # 20 tokens
    path = write_table(tmp_path / "long.csv", ["text", "label"], [(long_text, 0), ("好看", 1)])
    inst = {"d": {"type": "text-table", "train": path, "test": path}}
    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    options = {"max_length": 10, "truncation": "head+tail", "head_length": 3}
    ctx = validate(task, tmp_path, inst, spec, options=options)
    tok = load_tokenizer(spec, ctx)
    x = load_split("d", "train", ctx, TaskOptions.parse(options), tok).x
    tokens = tok.convert_ids_to_tokens(x[0, 0].tolist())
    head, tail = 3, 10 - 2 - 3  # [CLS], the first 3, the last 5, [SEP]
    expected = ["[CLS]", *long_text[:head], *long_text[-tail:], "[SEP]"]
    assert tokens == expected and x[0, 1].tolist() == [1] * 10
    short = tok.convert_ids_to_tokens(x[1, 0].tolist())
    assert short == ["[CLS]", "好", "看", "[SEP]"] + ["[PAD]"] * 6  # a short text is left as it is
    # the default keeps the first tokens; Sun et al.'s 128 + 382 at 512 tokens
    x_end = load_split("d", "train", ctx, TaskOptions.parse({"max_length": 10}), tok).x
    assert tok.convert_ids_to_tokens(x_end[0, 0].tolist()) == ["[CLS]", *long_text[:8], "[SEP]"]
    assert TaskOptions.parse({"max_length": 512, "truncation": "head+tail"}).head_length == 128


def test_head_tail_options_and_pairs_are_checked(task, checkpoint, tmp_path):
    from facebench.tasks.text.pretrain import pretrain_key
    from facebench.tasks.base import PretrainSpec

    one_line_error(lambda: TaskOptions.parse({"max_length": 10, "truncation": "head+tail", "head_length": 9}),
                   r"head_length must be an integer from 0 to max_length - 2 = 8")
    one_line_error(lambda: TaskOptions.parse({"head_length": 4}), "head_length applies to truncation: head\\+tail only")
    one_line_error(lambda: TaskOptions.parse({"truncation": "middle"}), "truncation must be one of end, head\\+tail")
    path = write_table(tmp_path / "p.csv", ["a", "b", "label"], PAIRS)
    inst = {"d": {"type": "text-table", "train": path, "test": path, "text_column": "a", "text_pair_column": "b"}}
    spec = ModelSpec("ckpt", "bert", str(checkpoint))
    one_line_error(lambda: validate(task, tmp_path, inst, spec, options={"truncation": "head+tail"}),
                   r"p\.csv: truncation head\+tail is for single texts, and this dataset is of sentence pairs")
    # source training sees the truncation: its cache key changes with it, and only then
    trained = ModelSpec("m", "bert", None, pretrain=PretrainSpec("src"), options={"num_hidden_layers": 1})
    keys = {pretrain_key(trained, TaskOptions.parse(o)) for o in ({}, {"truncation": "end"},
                                                                  {"truncation": "head+tail"})}
    assert len(keys) == 2
