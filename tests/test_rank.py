"""``facebench rank`` / ``facebench.rank``: zoos from config, ranking through the feature cache, bad input.

Models are timm's small ``test_*`` networks, random-init or saved here (nothing is downloaded);
the data are scikit-learn digits written as an image folder. Expected values are computed
independently: the scores by ``facebench score`` on copies of the cached feature files, the ranks
by sorting those scores by hand.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from test_cli_score import run_cli  # noqa: E402

import facebench  # noqa: E402
from facebench.errors import BadInputError, ConfigError  # noqa: E402
from facebench.references import ModelReference, load_zoo_file, parse_references  # noqa: E402
from facebench.runner.rank import RankTable, competition_ranks, default_metrics, rank  # noqa: E402

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

SMALL = {"input_size": 32}
METRICS = ["logme", "nce", "face"]


def write_digits(root: Path, classes: int = 4, per_class: int = 6) -> Path:
    from PIL import Image

    from facebench.offline_data import digits_arrays

    images, labels = digits_arrays()
    for k in range(classes):
        folder = root / f"digit-{k}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in np.flatnonzero(labels == k)[:per_class]:
            Image.fromarray(images[i]).save(folder / f"{i}.png")
    return root


def save_state(arch: str, path: Path, seed: int, zero: bool = False) -> Path:
    torch.manual_seed(seed)
    state = timm.create_model(arch, pretrained=False).state_dict()
    if zero:
        state = {k: torch.zeros_like(v) for k, v in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("rank")
    data = write_digits(root / "digits")
    efficient = save_state("test_efficientnet", root / "weights" / "effnet.pt", seed=1)
    folder = root / "convnext-ckpt"
    save_state("test_convnext", folder / "model.safetensors", seed=2)
    (folder / "config.json").write_text(json.dumps({"architecture": "test_convnext"}))
    zoo = root / "zoo.yaml"
    zoo.write_text(yaml.safe_dump({"task": "classification", "name": "tiny", "models": [
        {"ref": "timm:test_resnet", "weights": "random", "options": SMALL},
        {"ref": "timm:test_efficientnet", "weights": str(efficient), "options": SMALL, "name": "effnet-saved"},
        {"ref": f"file:{folder}", "options": SMALL, "name": "convnext-local"},
    ]}))
    cache = root / "cache"
    table = rank(str(zoo), str(data), METRICS, cache_dir=cache, device="cpu", progress=False)
    return {"root": root, "data": data, "zoo": zoo, "cache": cache, "table": table}


def test_config_zoo_of_two_timm_models_and_a_local_checkpoint_resolves_and_ranks(setup):
    table = setup["table"]
    assert isinstance(table, RankTable)
    assert {r.model for r in table.rows} == {"test_resnet", "effnet-saved", "convnext-local"}
    assert not table.failed and table.metrics == METRICS
    assert table.task == "classification" and table.zoo == "tiny" and table.dataset == "digits"
    assert table.classes == 4 and table.samples == sum(1 for _ in (setup["data"]).rglob("*.png")) - 4  # 1 test image per class
    for row in table.rows:
        assert set(row.scores) == set(METRICS) and all(np.isfinite(v) for v in row.scores.values())
        assert row.extract_seconds is not None and not row.cached and Path(row.features).is_file()
    # ranks by hand: per metric 1 + number of strictly higher scores, then by the mean of those
    mean_rank = {}
    for row in table.rows:
        per = [1 + sum(other.scores[m] > row.scores[m] for other in table.rows) for m in METRICS]
        assert row.metric_ranks == dict(zip(METRICS, per))
        mean_rank[row.model] = sum(per) / len(per)
    for row in table.rows:
        assert row.rank == 1 + sum(v < mean_rank[row.model] for v in mean_rank.values())
    assert [r.rank for r in table.rows] == sorted(r.rank for r in table.rows)
    assert table.best == table.rows[0].model


def test_table_equals_facebench_score_on_the_same_cached_features(setup, tmp_path, capsys):
    for row in setup["table"].rows:
        shutil.copy(row.features, tmp_path / f"{row.model}.npz")
    args = ["score", tmp_path, "--format", "json"] + [a for m in METRICS for a in ("--metric", m)]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    expected = json.loads(out)
    got = setup["table"].scores()
    assert set(got) == set(expected)
    for metric in METRICS:
        assert got[metric] == pytest.approx(expected[metric], rel=1e-12, abs=1e-12)


def test_second_call_with_another_metric_reuses_the_cached_features(setup, monkeypatch):
    from facebench.tasks.classification.task import ClassificationTask

    def no_extraction(*args, **kwargs):
        raise AssertionError("features were extracted again")

    monkeypatch.setattr(ClassificationTask, "extract", no_extraction)
    again = rank(str(setup["zoo"]), str(setup["data"]), ["hscore"], cache_dir=setup["cache"], device="cpu", progress=False)
    assert not again.failed
    assert all(r.cached for r in again.rows)
    assert {r.model: r.features for r in again.rows} == {r.model: r.features for r in setup["table"].rows}
    assert all(r.scores["hscore"] is not None for r in again.rows)


def test_cli_prints_the_ranked_table_with_timings_and_says_which_default_metrics(setup, capsys):
    code, out, err = run_cli(capsys, "rank", "--zoo", setup["zoo"], "--data", setup["data"], "--cache-dir", setup["cache"],
                             "--device", "cpu", "-q")
    assert code == 0, err
    names, _ = default_metrics(facebench_metric_names())
    assert "default metrics: " + ", ".join(names) in out
    header = next(line for line in out.splitlines() if line.startswith("rank"))
    assert header.split() == ["rank", "model", *names, "extract", "score"]
    assert out.count("cached") == 3  # every model's features read back from the cache
    code, out, err = run_cli(capsys, "rank", "--zoo", setup["zoo"], "--data", setup["data"], "--cache-dir", setup["cache"],
                             "--device", "cpu", "-q", "--format", "csv", "-m", "logme")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split(",")[:3] == ["rank", "model", "logme"] and len(lines) == 4
    logme = {r.model: r.scores["logme"] for r in setup["table"].rows}
    for line in lines[1:]:
        cells = line.split(",")
        assert float(cells[2]) == logme[cells[1]]
    code, out, err = run_cli(capsys, "rank", "--zoo", setup["zoo"], "--data", setup["data"], "--cache-dir", setup["cache"],
                             "--device", "cpu", "-q", "--format", "json", "-m", "logme", "-m", "nce")
    assert code == 0 and "Traceback" not in err
    data = json.loads(out)
    assert {r["model"]: r["scores"]["logme"] for r in data["rows"]} == logme
    assert [r["rank"] for r in data["rows"]] == sorted(r["rank"] for r in data["rows"])


def facebench_metric_names():
    from facebench.plugins import get_plugins

    return get_plugins().metrics.names()


def test_python_api_returns_a_table_object(setup):
    table = facebench.rank(str(setup["zoo"]), str(setup["data"]), ["logme"], cache_dir=setup["cache"], device="cpu",
                           progress=False)
    data = json.loads(table.to_json())
    assert [r["model"] for r in data["rows"]] == [r.model for r in table.rows]
    assert data["metrics"] == ["logme"] and all(r["features_cached"] for r in data["rows"])
    text = str(table)
    assert "3 of 3 models of tiny ranked on digits" in text and "cached" in text


def test_references_that_do_not_resolve_are_all_named_with_what_was_tried(setup, tmp_path):
    zoo = tmp_path / "bad.yaml"
    zoo.write_text(yaml.safe_dump({"task": "classification", "models": [
        "timm:no_such_network_xyz",
        "timm:test_resnet",  # pretrained weights: not in the local cache, no download allowed
        {"ref": f"file:{tmp_path / 'missing.pt'}", "arch": "test_resnet"},
        {"ref": "timm:test_vit", "weights": "random"},
    ]}))
    with pytest.raises(ConfigError) as err:
        rank(str(zoo), str(setup["data"]), ["logme"], cache_dir=tmp_path / "cache", device="cpu", progress=False)
    text = str(err.value)
    assert "3 of 4 model reference(s) do not resolve" in text
    assert "'no_such_network_xyz'" in text and "timm has no architecture" in text
    assert "model 'test_resnet'" in text and "not in the local cache" in text and "tried:" in text
    assert "timm/test_resnet.r160_in1k" in text  # where the pretrained weights would have been
    assert str(tmp_path / "missing.pt") in text
    assert not (tmp_path / "cache" / "features").exists()  # nothing extracted


def test_a_local_file_without_its_architecture_says_so(tmp_path):
    path = save_state("test_resnet", tmp_path / "m.pt", seed=0)
    from facebench.tasks.classification.task import TASK
    from facebench.references import ReferenceError as RefError

    with pytest.raises(RefError, match="architecture named: add arch"):
        TASK.resolve_model(ModelReference("m", str(path)), None)


def test_unusable_model_output_is_said_per_model_and_the_others_are_ranked(setup, tmp_path):
    zero = save_state("test_resnet", tmp_path / "zero.pt", seed=0, zero=True)
    vit = save_state("test_vit", tmp_path / "vit.pt", seed=0)
    refs = [
        {"ref": "timm:test_resnet", "weights": "random", "options": SMALL},
        {"ref": "timm:test_efficientnet", "weights": "random", "options": SMALL},
        {"ref": f"file:{zero}", "arch": "test_resnet", "options": SMALL, "name": "all-zero"},
        {"ref": f"file:{vit}", "arch": "test_resnet", "options": SMALL, "name": "wrong-arch"},
    ]
    table = rank(refs, str(setup["data"]), ["logme", "face"], cache_dir=tmp_path / "cache", device="cpu", progress=False)
    by = {r.model: r for r in table.rows}
    assert "same for every sample" in " ".join(by["all-zero"].errors) and by["all-zero"].rank is None
    assert "feature extraction failed" in " ".join(by["wrong-arch"].errors) and by["wrong-arch"].rank is None
    assert {by["test_resnet"].rank, by["test_efficientnet"].rank} == {1, 2}
    assert [r.model for r in table.rows[2:]] == sorted(["all-zero", "wrong-arch"])
    assert "all-zero:" in str(table)


def test_a_dataset_with_one_class_is_refused_before_extraction(tmp_path):
    data = write_digits(tmp_path / "one", classes=1)
    with pytest.raises(ConfigError, match="one class"):
        rank([{"ref": "timm:test_resnet", "weights": "random"}], str(data), ["logme"], cache_dir=tmp_path / "cache",
             device="cpu", progress=False)
    assert not (tmp_path / "cache" / "features").exists()


def test_too_few_samples_per_class_for_a_metric(tmp_path):
    data = write_digits(tmp_path / "few", classes=3, per_class=2)  # 1 train image per class
    refs = [{"ref": "timm:test_resnet", "weights": "random", "options": SMALL},
            {"ref": "timm:test_efficientnet", "weights": "random", "options": SMALL}]
    table = rank(refs, str(data), ["logme", "gbc"], cache_dir=tmp_path / "cache", device="cpu", progress=False)
    assert table.metrics == ["logme"]
    assert any("metric gbc not scored: it needs at least 2 samples per class" in n and "has 1" in n for n in table.notes)
    with pytest.raises(BadInputError, match="too few samples per class"):
        rank(refs, str(data), ["gbc"], cache_dir=tmp_path / "cache", device="cpu", progress=False)


def test_zoo_file_parsing_and_registry_references(tmp_path):
    refs = parse_references(["timm:resnet18.a1_in1k", "file:/x/vit.pt", "hf:hfl/chinese-roberta-wwm-ext",
                             "zoo:embedded-classification/resnet-fmnist-ce"])
    assert [r.name for r in refs] == ["resnet18.a1_in1k", "vit", "chinese-roberta-wwm-ext", "resnet-fmnist-ce"]
    assert [r.scheme for r in refs] == ["timm", "file", "hf", "zoo"]
    with pytest.raises(ConfigError, match="two models named"):
        parse_references(["timm:resnet18", {"ref": "timm:resnet18", "weights": "random"}])
    with pytest.raises(ConfigError, match="unknown key"):
        parse_references([{"ref": "timm:resnet18", "wieghts": "random"}])
    (tmp_path / "z.yaml").write_text("- timm:resnet18\n")
    assert load_zoo_file(tmp_path / "z.yaml").name == "z"

    from facebench.references import ReferenceError as RefError, resolve_registry_model
    from facebench.tasks.classification.zoos import embedded

    zoos = {embedded.ZOO.name: embedded.ZOO}
    spec = resolve_registry_model(refs[3], zoos, "classification")
    assert spec == embedded.ZOO.model("resnet-fmnist-ce")
    with pytest.raises(RefError, match="has no model 'nope'"):
        resolve_registry_model(ModelReference("x", "zoo:embedded-classification/nope"), zoos, "classification")
    with pytest.raises(RefError, match="is a classification zoo, not text"):
        resolve_registry_model(refs[3], zoos, "text")


def test_default_metrics_lead_the_boards_overall_ranking(tmp_path):
    board = {"ranking": {"overall": [
        {"rank": 1, "metric": "partial", "mean_tau_w": 0.9, "targets_covered": 1, "targets_total": 4},
        {"rank": 2, "metric": "b", "mean_tau_w": 0.5, "targets_covered": 4, "targets_total": 4},
        {"rank": 3, "metric": "unregistered", "mean_tau_w": 0.4, "targets_covered": 4, "targets_total": 4},
        {"rank": 4, "metric": "c", "mean_tau_w": 0.3, "targets_covered": 4, "targets_total": 4},
        {"rank": 5, "metric": "d", "mean_tau_w": 0.2, "targets_covered": 4, "targets_total": 4},
        {"rank": 6, "metric": "e", "mean_tau_w": 0.1, "targets_covered": 4, "targets_total": 4},
    ]}, "significance": {"metrics": [{"metric": "b", "letters": "a"}, {"metric": "c", "letters": "ab"},
                                     {"metric": "d", "letters": "b"}]}}
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board))
    names, note = default_metrics(["b", "c", "d", "e", "partial"], path)
    assert names == ["b", "c", "d"]
    assert "b 0.500, c 0.300, d 0.200" in note and "not significant" not in note  # b and d differ
    names, note = default_metrics(["b", "c"], path)
    assert names == ["b", "c"] and "not significant" in note
    # the committed board: its three leaders with full coverage
    committed = json.loads((Path(facebench.__file__).parents[1] / "leaderboards" / "embedded-default"
                            / "leaderboard.json").read_text())["ranking"]["overall"]
    leaders = [r["metric"] for r in committed if r["targets_covered"] == r["targets_total"]][:3]
    assert default_metrics(facebench_metric_names())[0] == leaders


def test_competition_ranks():
    assert competition_ranks({"a": 3.0, "b": 1.0, "c": 3.0, "d": 0.5}) == {"a": 1, "b": 3, "c": 1, "d": 4}
    assert competition_ranks({"a": 1.5, "b": 1.0}, higher_is_better=False) == {"a": 2, "b": 1}


def test_text_loader_reads_a_local_bert_checkpoint_and_refuses_others(tmp_path):
    pytest.importorskip("transformers")
    from types import SimpleNamespace

    from facebench.references import ReferenceError as RefError
    from facebench.tasks.text.task import TASK

    folder = tmp_path / "bert"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 8}))
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n")
    ctx = SimpleNamespace(cache_dir=tmp_path / "cache", download=False)
    spec = TASK.resolve_model(ModelReference("bert", f"hf:{folder}"), ctx)
    assert (spec.arch, spec.weights) == ("bert", str(folder))
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(RefError, match="model_type 'gpt2'"):
        TASK.resolve_model(ModelReference("bert", f"hf:{folder}"), ctx)
    with pytest.raises(RefError, match="not on disk") as err:
        TASK.resolve_model(ModelReference("r", "hf:someone/not-cached-model"), ctx)
    assert str(tmp_path / "cache" / "hub") in str(err.value)
    hub = TASK.resolve_model(ModelReference("r", "hf:someone/not-cached-model"), SimpleNamespace(cache_dir=tmp_path, download=True))
    assert hub.weights == "hub:someone/not-cached-model"


def test_segmentation_loader_maps_an_mmseg_pspnet_config(tmp_path):
    pytest.importorskip("mmengine")
    mmseg = pytest.importorskip("mmseg")
    from types import SimpleNamespace

    from facebench.references import ReferenceError as RefError
    from facebench.tasks.segmentation.task import TASK

    configs = Path(mmseg.__file__).parent / ".mim" / "configs"
    if not (configs / "pspnet").is_dir():
        pytest.skip("mmseg's configs are not installed")
    ckpt = tmp_path / "psp.pth"
    ckpt.write_bytes(b"")
    ctx = SimpleNamespace(download=False)
    spec = TASK.resolve_model(ModelReference("p", "mmseg:pspnet/pspnet_r18-d8_4xb4-80k_loveda-512x512.py",
                                             checkpoint=str(ckpt)), ctx)
    # the config file says: depth 18 (over its r50 base), PSP bottleneck 128 channels, mmseg's defaults otherwise
    assert (spec.arch, spec.weights) == ("pspnet", str(ckpt))
    assert dict(spec.options) == {"depth": 18, "base_channels": 64, "stem_channels": 64, "channels": 128, "dropout": 0.1}
    with pytest.raises(RefError, match="ASPPHead"):
        TASK.resolve_model(ModelReference("d", "mmseg:deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py",
                                          checkpoint=str(ckpt)), ctx)
    with pytest.raises(RefError, match="checkpoint .* not found"):
        TASK.resolve_model(ModelReference("p", "mmseg:pspnet/pspnet_r18-d8_4xb4-80k_loveda-512x512.py",
                                          checkpoint=str(tmp_path / "none.pth")), ctx)


def test_cli_names_every_unresolved_reference_on_its_own_line(setup, tmp_path, capsys):
    zoo = tmp_path / "bad.yaml"
    zoo.write_text(yaml.safe_dump({"task": "classification", "models": ["timm:no_such_network_xyz", "timm:nor_this_one"]}))
    code, out, err = run_cli(capsys, "rank", "--zoo", zoo, "--data", setup["data"], "--cache-dir", tmp_path, "-q")
    assert code == 2 and out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert all(line.startswith("facebench: error: ") for line in lines)
    assert any("no_such_network_xyz" in line for line in lines) and any("nor_this_one" in line for line in lines)


def test_timm_reference_takes_pretrained_weights_from_the_local_hugging_face_cache(setup, tmp_path, monkeypatch):
    """``timm:test_resnet`` resolves offline once its weights sit in the Hugging Face cache, and is ranked."""
    import huggingface_hub.constants as hub_constants
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg("test_resnet")
    snapshot = tmp_path / "hub" / ("models--" + cfg.hf_hub_id.replace("/", "--")) / "snapshots" / ("0" * 40)
    save_state("test_resnet", snapshot / "model.safetensors", seed=3)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    refs = [{"ref": "timm:test_resnet", "options": SMALL}, {"ref": "timm:test_efficientnet", "weights": "random", "options": SMALL}]
    table = rank(refs, str(setup["data"]), ["logme"], cache_dir=tmp_path / "cache", device="cpu", progress=False)
    assert not table.failed and {r.rank for r in table.rows} == {1, 2}
    meta = json.loads(Path(next(r.features for r in table.rows if r.model == "test_resnet")).with_suffix(".json").read_text())
    assert meta["weights"] == "timm:default"


PSP_CONFIG = """_base_ = 'mmseg::_base_/models/pspnet_r50-d8.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, base_channels=16, stem_channels=16, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=128, channels=64, num_classes=5, norm_cfg=norm_cfg),
    auxiliary_head=None)
"""


@pytest.mark.slow
def test_segmentation_zoo_of_mmseg_configs_and_checkpoints_ranks_on_embedded_scenes(tmp_path):
    """Two checkpoints of a user's mmseg config (inheriting mmseg's own PSPNet base) ranked on scenes-fashion."""
    pytest.importorskip("mmseg")
    from facebench.tasks.base import ModelSpec
    from facebench.tasks.segmentation.mm import build_pspnet

    (tmp_path / "psp_small.py").write_text(PSP_CONFIG)
    models = []
    for i in range(2):
        torch.manual_seed(i)
        net = build_pspnet(ModelSpec("x", "pspnet", None, options={"depth": 18, "base_channels": 16, "channels": 64}), 5)
        torch.save(net.state_dict(), tmp_path / f"psp{i}.pth")
        models.append({"ref": f"mmseg:{tmp_path / 'psp_small.py'}", "checkpoint": str(tmp_path / f"psp{i}.pth"),
                       "name": f"psp{i}"})
    table = rank(models, "scenes-fashion", ["logme", "hscore"], cache_dir=tmp_path / "cache", device="cpu",
                 progress=False, options={"pixels_per_class": 50, "num_threads": 1})
    assert table.task == "segmentation" and not table.failed
    assert {r.rank for r in table.rows} <= {1, 2} and len(table.ranked) == 2
