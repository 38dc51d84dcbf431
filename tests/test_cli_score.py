"""``facebench score DIR``: JSON output, correlations, and one-line errors for every bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, os.path.dirname(__file__))
import reference_impls as ref  # noqa: E402

from facebench.bundle import FeatureBundle  # noqa: E402
from facebench.cli import main  # noqa: E402
from facebench.plugins import get_plugins  # noqa: E402

FEATURE_METRICS = ["face", "face-vc", "face-cf", "face-literal", "face-cf-literal", "nc2", "logme", "hscore", "gbc"]
ALL_METRICS = FEATURE_METRICS + ["leep", "nce"]


# -------------------------------------------------------------------------------------------
# helpers
# -------------------------------------------------------------------------------------------
def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``facebench *args`` in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def stderr_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def assert_clean_errors(err: str, expected_errors: int | None = None) -> list[str]:
    """Every stderr line is a facebench message (no traceback, no continuation lines)."""
    assert "Traceback" not in err
    lines = stderr_lines(err)
    for line in lines:
        assert line.startswith("facebench: error:") or line.startswith("facebench: warning:"), line
    errors = [line for line in lines if line.startswith("facebench: error:")]
    if expected_errors is not None:
        assert len(errors) == expected_errors, lines
    return errors


def model_arrays(seed: int, counts=(20, 25, 15), d: int = 5, z: int = 6, sep: float = 1.0):
    x, y, p = ref.make_data(seed, list(counts), d, sep=sep, z=z)
    return {"features": x, "labels": y, "probs": p}


def write_model(directory: Path, name: str, **arrays) -> Path:
    path = directory / f"{name}.npz"
    np.savez(path, **arrays)
    return path


@pytest.fixture
def zoo(tmp_path) -> Path:
    """Three good models with probs."""
    for i, name in enumerate(["alpha", "beta", "gamma"]):
        write_model(tmp_path, name, **model_arrays(i, sep=0.5 + 0.4 * i))
    return tmp_path


def api_scores(directory: Path, names, params=None) -> dict:
    """{metric: {model: score}} through the Python API (score + combine per metric)."""
    params = params or {}
    bundles = {p.stem: FeatureBundle.load_npz(p) for p in sorted(directory.glob("*.npz"))}
    out = {}
    for name in names:
        m = get_plugins().create_metric(name, **params.get(name, {}))
        out[name] = m.combine({model: m.score(b) for model, b in bundles.items()})
    return out


def assert_scores_equal(got: dict, expected: dict, rtol=1e-12):
    assert set(got) == set(expected)
    for metric in expected:
        assert set(got[metric]) == set(expected[metric]), metric
        for model in expected[metric]:
            np.testing.assert_allclose(got[metric][model], expected[metric][model], rtol=rtol, atol=1e-15, err_msg=f"{metric}/{model}")


# -------------------------------------------------------------------------------------------
# good input
# -------------------------------------------------------------------------------------------
def test_json_all_metrics_match_api(zoo, capsys):
    args = ["score", zoo, "--format", "json"]
    for name in ALL_METRICS:
        args += ["-m", name]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert_clean_errors(err, expected_errors=0)
    got = json.loads(out)  # exactly one JSON object on stdout
    assert list(got) == ALL_METRICS  # in the order asked for
    assert_scores_equal(got, api_scores(zoo, ALL_METRICS))
    for metric in ALL_METRICS:
        assert set(got[metric]) == {"alpha", "beta", "gamma"}


def test_default_scores_every_registered_metric(zoo, capsys):
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json")
    assert "Traceback" not in err
    got = json.loads(out)
    plugins = get_plugins()  # all but the data-free controls, which read a meta that .npz files do not carry
    assert list(got) == [n for n in plugins.metrics.names() if not plugins.metrics.get(n).control]
    for metric in ALL_METRICS:
        assert set(got[metric]) == {"alpha", "beta", "gamma"}


def test_json_values_match_independent_references(zoo, capsys):
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "face-vc", "-m", "nc2", "-m", "leep",
                             "-m", "hscore")
    assert code == 0, err
    got = json.loads(out)
    assert list(got) == ["face-vc", "nc2", "leep", "hscore"]
    for model in ("alpha", "beta", "gamma"):
        with np.load(zoo / f"{model}.npz") as npz:
            x, y, p = npz["features"], npz["labels"], npz["probs"]
        np.testing.assert_allclose(got["face-vc"][model], ref.variance_collapse(x, y, rank=2), rtol=1e-8)
        np.testing.assert_allclose(got["nc2"][model], -ref.nc2(x, y), rtol=1e-9)
        np.testing.assert_allclose(got["leep"][model], ref.leep(p, y), rtol=1e-10)
        np.testing.assert_allclose(got["hscore"][model], ref.hscore(x, y), rtol=1e-8)


def test_param_is_passed_to_metric(zoo, capsys):
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "face-cf-literal",
                             "--param", "face-cf-literal.ridge=0", "--param", "face-cf-literal.t=0.5")
    assert code == 0, err
    got = json.loads(out)
    for model in ("alpha", "beta", "gamma"):
        with np.load(zoo / f"{model}.npz") as npz:
            x, y = npz["features"], npz["labels"]
        np.testing.assert_allclose(got["face-cf-literal"][model], ref.fairness_full(x, y, t=0.5, ridge=0.0), rtol=1e-8)


def test_table_format(zoo, capsys):
    code, out, err = run_cli(capsys, "score", zoo, "-m", "face-vc", "-m", "gbc")
    assert code == 0, err
    assert "face-vc" in out and "gbc" in out
    for model in ("alpha", "beta", "gamma"):
        assert model in out


def test_ground_truth_adds_correlations(tmp_path, capsys):
    zoo_dir = tmp_path / "zoo"
    zoo_dir.mkdir()
    for i in range(5):
        write_model(zoo_dir, f"m{i}", **model_arrays(10 + i, sep=0.3 + 0.3 * i))
    acc = {"m0": 0.61, "m1": 0.72, "m2": 0.70, "m3": 0.85, "m4": 0.80}
    csv = tmp_path / "truth.csv"
    csv.write_text("model,accuracy\n" + "".join(f"{m},{a}\n" for m, a in acc.items()))
    names = ["face-vc", "hscore", "gbc", "face", "leep"]
    args = ["score", zoo_dir, "--format", "json", "--ground-truth", csv]
    for n in names:
        args += ["-m", n]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    got = json.loads(out)
    assert set(got) == {"scores", "correlations"}
    assert_scores_equal(got["scores"], api_scores(zoo_dir, names))
    models = sorted(acc)
    y = np.array([acc[m] for m in models])
    for metric in names:
        x = np.array([got["scores"][metric][m] for m in models])
        corr = got["correlations"][metric]
        np.testing.assert_allclose(corr["tau_w"], stats.weightedtau(x, y)[0], rtol=1e-12)
        np.testing.assert_allclose(corr["pearson"], stats.pearsonr(x, y)[0], rtol=1e-12)
        np.testing.assert_allclose(corr["spearman"], stats.spearmanr(x, y)[0], rtol=1e-12)
        np.testing.assert_allclose(corr["kendall"], stats.kendalltau(x, y)[0], rtol=1e-12)
        best = models[int(np.argmax(x))]
        np.testing.assert_allclose(corr["top1_rel"], acc[best] / max(acc.values()), rtol=1e-12)


def test_subprocess_json(zoo):
    exe = Path(sys.executable).with_name("facebench")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from facebench.cli import main; main()"]
    proc = subprocess.run(cmd + ["score", str(zoo), "--format", "json", "-m", "nce"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert_scores_equal(json.loads(proc.stdout), api_scores(zoo, ["nce"]))


# -------------------------------------------------------------------------------------------
# bad bundles: one-line error naming the file and the array; the good models are still scored
# -------------------------------------------------------------------------------------------
def _bad(seed=99):
    return model_arrays(seed)


def _mismatch():
    a = _bad()
    a["labels"] = a["labels"][:-1]
    return a


def _nan_features():
    a = _bad()
    a["features"][3, 2] = np.nan
    return a


def _inf_features():
    a = _bad()
    a["features"][7, 0] = -np.inf
    return a


def _nan_probs():
    a = _bad()
    a["probs"][5, 1] = np.nan
    return a


def _probs_not_normalised():
    a = _bad()
    a["probs"] = a["probs"] * 1.5
    return a


def _float_labels():
    a = _bad()
    a["labels"] = a["labels"].astype(np.float64)
    return a


def _single_class():
    a = _bad()
    a["labels"] = np.zeros_like(a["labels"]) + 4
    return a


def _no_labels():
    a = _bad()
    del a["labels"]
    return a


def _probs_wrong_rows():
    a = _bad()
    a["probs"] = a["probs"][:-3]
    return a


BAD_BUNDLES = {
    "mismatched-lengths": (_mismatch, ["labels", "features"]),
    "nan-features": (_nan_features, ["features", "NaN"]),
    "inf-features": (_inf_features, ["features", "inf"]),
    "nan-probs": (_nan_probs, ["probs", "NaN"]),
    "probs-not-softmax": (_probs_not_normalised, ["probs", "sum"]),
    "probs-wrong-rows": (_probs_wrong_rows, ["probs"]),
    "float-labels": (_float_labels, ["labels", "integer"]),
    "single-class": (_single_class, ["labels", "class"]),
    "missing-labels": (_no_labels, ["labels"]),
}


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_bad_bundle_is_one_line_error(zoo, capsys, case):
    make, words = BAD_BUNDLES[case]
    write_model(zoo, "broken", **make())
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "face-vc")
    assert code != 0
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "broken.npz" in line
    for w in words:
        assert w.lower() in line.lower(), (w, line)
    got = json.loads(out)  # the other models are still scored
    assert_scores_equal(got, api_scores_without(zoo, ["face-vc"], "broken"))


def api_scores_without(directory: Path, names, skip: str) -> dict:
    bundles = {p.stem: FeatureBundle.load_npz(p) for p in sorted(directory.glob("*.npz")) if p.stem != skip}
    out = {}
    for name in names:
        m = get_plugins().create_metric(name)
        out[name] = m.combine({model: m.score(b) for model, b in bundles.items()})
    return out


def test_garbage_npz(zoo, capsys):
    (zoo / "junk.npz").write_bytes(np.random.default_rng(0).bytes(512))
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "face-vc")
    assert code != 0
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "junk.npz" in line
    assert set(json.loads(out)["face-vc"]) == {"alpha", "beta", "gamma"}


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.1])
def test_truncated_npz(zoo, capsys, fraction):
    raw = (zoo / "alpha.npz").read_bytes()
    (zoo / "cut.npz").write_bytes(raw[: int(len(raw) * fraction)])
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "face-vc")
    assert code != 0
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "cut.npz" in line
    assert set(json.loads(out)["face-vc"]) == {"alpha", "beta", "gamma"}


def test_only_a_garbage_file_subprocess(tmp_path):
    # a real process: the error is one line on stderr, no traceback, non-zero exit
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    exe = Path(sys.executable).with_name("facebench")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from facebench.cli import main; main()"]
    proc = subprocess.run(cmd + ["score", str(tmp_path), "--format", "json", "-m", "face-vc"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    (line,) = assert_clean_errors(proc.stderr, expected_errors=1)
    assert "junk.npz" in line


def test_class_with_one_sample_errors_only_for_metrics_needing_two(zoo, capsys):
    a = model_arrays(42)
    a["labels"] = a["labels"].copy()
    a["labels"][0] = 9  # class 9 has a single sample
    write_model(zoo, "tiny", **a)
    names = ["face-cf", "gbc", "face-cf-literal", "face-vc", "nc2", "hscore", "logme", "leep", "nce"]
    args = ["score", zoo, "--format", "json"]
    for n in names:
        args += ["-m", n]
    code, out, err = run_cli(capsys, *args)
    assert code == 1
    errors = assert_clean_errors(err, expected_errors=3)
    for metric in ("face-cf", "gbc", "face-cf-literal"):
        (line,) = [e for e in errors if f" {metric} on " in e]
        assert "tiny" in line and "2" in line and "9" in line
    got = json.loads(out)
    for metric in ("face-cf", "gbc", "face-cf-literal"):
        assert set(got[metric]) == {"alpha", "beta", "gamma"}
    for metric in ("face-vc", "nc2", "hscore", "logme", "leep", "nce"):
        assert set(got[metric]) == {"alpha", "beta", "gamma", "tiny"}
    # still the right values for the small-class model
    np.testing.assert_allclose(got["face-vc"]["tiny"], ref.variance_collapse(a["features"], a["labels"], rank=3), rtol=1e-8)


def test_face_on_one_model_zoo(tmp_path, capsys):
    write_model(tmp_path, "solo", **model_arrays(3))
    code, out, err = run_cli(capsys, "score", tmp_path, "--format", "json", "-m", "face", "-m", "face-vc")
    assert code == 1
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "face" in line and "at least 2 models" in line
    got = json.loads(out)
    assert got["face"] == {}
    assert set(got["face-vc"]) == {"solo"}


def test_leep_without_probs_errors_for_leep_only(zoo, capsys):
    a = model_arrays(8)
    del a["probs"]
    write_model(zoo, "noprobs", **a)
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "leep", "-m", "face-vc", "-m", "nc2")
    assert code == 1
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "leep" in line and "noprobs" in line and "probs" in line
    got = json.loads(out)
    assert set(got["leep"]) == {"alpha", "beta", "gamma"}
    assert set(got["face-vc"]) == set(got["nc2"]) == {"alpha", "beta", "gamma", "noprobs"}


def test_no_bundle_has_probs(tmp_path, capsys):
    for i in range(2):
        a = model_arrays(i)
        del a["probs"]
        write_model(tmp_path, f"m{i}", **a)
    code, out, err = run_cli(capsys, "score", tmp_path, "--format", "json", "-m", "leep", "-m", "nce", "-m", "face-vc")
    assert code == 1
    errors = assert_clean_errors(err)
    per_model = [e for e in errors if " on model " in e]
    assert len(per_model) == 4 and all(("leep" in e or "nce" in e) and "probs" in e for e in per_model)
    got = json.loads(out)
    assert got["leep"] == {} and got["nce"] == {}
    assert set(got["face-vc"]) == {"m0", "m1"}


def test_no_spurious_zoo_error_when_every_model_failed(tmp_path, capsys):
    for i in range(2):
        a = model_arrays(i)
        del a["probs"]
        write_model(tmp_path, f"m{i}", **a)
    code, out, err = run_cli(capsys, "score", tmp_path, "--format", "json", "-m", "leep")
    errors = assert_clean_errors(err)
    assert len(errors) == 2, errors  # one per model, no extra "leep on zoo" line


def test_zero_column_features_is_a_clean_error(zoo, capsys):
    a = model_arrays(5)
    a["features"] = np.zeros((a["labels"].size, 0))
    write_model(zoo, "nodims", **a)
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "hscore")
    assert code != 0
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "nodims" in line and "features" in line


# -------------------------------------------------------------------------------------------
# errors before anything is computed: exit 2
# -------------------------------------------------------------------------------------------
def test_empty_directory(tmp_path, capsys):
    code, out, err = run_cli(capsys, "score", tmp_path, "--format", "json")
    assert code == 2
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert str(tmp_path) in line
    assert out.strip() == ""


def test_missing_directory(tmp_path, capsys):
    missing = tmp_path / "does-not-exist"
    code, out, err = run_cli(capsys, "score", missing, "--format", "json")
    assert code == 2
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "does-not-exist" in line
    assert out.strip() == ""


def test_unknown_metric(zoo, capsys):
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "face-vc", "-m", "no-such-metric")
    assert code == 2
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "no-such-metric" in line
    assert out.strip() == ""


def test_param_for_metric_not_scored(zoo, capsys):
    code, out, err = run_cli(capsys, "score", zoo, "-m", "face-vc", "--param", "gbc.pca_dim=4")
    assert code == 2
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "gbc" in line


def test_ground_truth_missing_model(zoo, tmp_path, capsys):
    csv = tmp_path / "gt.csv"
    csv.write_text("model,accuracy\nalpha,0.5\nbeta,0.6\n")
    code, out, err = run_cli(capsys, "score", zoo, "--format", "json", "-m", "face-vc", "--ground-truth", csv)
    assert code == 2
    (line,) = assert_clean_errors(err, expected_errors=1)
    assert "gamma" in line
    assert out.strip() == ""


def test_store_errors_are_capped_per_model_but_a_whole_metric_failure_always_shows(monkeypatch, capsys):
    from facebench.cli import score as cli_score
    from facebench.runner import only_score

    per_model = [f"b t{i}: boom on model m{i}: KeyError: 'x'" for i in range(25)]
    worker = "b t0: metric 'slow' stopped at its time limit (60 s)"
    fake = only_score.StoreScores(errors=per_model, failures=[worker])
    monkeypatch.setattr(only_score, "score_store", lambda *a, **k: fake)
    monkeypatch.setattr(cli_score, "metric_spec", lambda names, params: {})
    code = cli_score.score_store("store.sqlite", ["boom"], (), "table")
    err = capsys.readouterr().err
    assert code == 1
    assert worker in err
    shown = [line for line in per_model if line in err]
    assert shown == per_model[:cli_score.MAX_ERROR_LINES]
    assert f"... and {25 - cli_score.MAX_ERROR_LINES} more on single models" in err
