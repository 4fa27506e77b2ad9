"""benchmarks/accuracy.py: which cells it trains, how entries accumulate, what the page says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from accuracy import main, results_lock
from accuracy_cells import (
    ABLATIONS,
    ADDITIONS,
    CANDIDATES,
    FIRST_EPOCHS,
    LONGER,
    RECOMMENDED,
    SHIPPED_EPOCHS,
    VARIANT_OVERRIDES,
    Cell,
    candidate_cell,
    cells,
    matching,
    recommended_cell,
    stemless_cell,
)
from accuracy_doc import candidates_verdict, epochs_verdict, render
from accuracy_results import merge

from tests.conftest import SHARED_DATA
from vivit.models import build_model
from vivit.training.recipe import load_recipe


def recipe_of(cell: Cell) -> dict[str, Any]:
    """The cell's recipe as a dict, its model section resolved (a default set explicitly is no change)."""
    recipe = load_recipe(cell.recipe, [f"data.dataset={cell.dataset}", *cell.overrides])
    return {**recipe.to_dict(), "model": recipe.model_config(11, (1, 28, 28, 28)).to_dict()}


def parameters(cell: Cell) -> int:
    with torch.device("meta"):
        model = build_model(load_recipe(cell.recipe, list(cell.overrides)).model_config(11, (1, 28, 28, 28)))
    return sum(p.numel() for p in model.parameters())


def test_recipe_variant_group_is_four_variants_times_two_recipes() -> None:
    names = [cell.name for cell in cells("recipe-variant")]
    assert len(names) == 8
    assert {name.split("/")[1] for name in names} == {"keras-seed", "vivit-medmnist"}
    assert {name.split("/")[2] for name in names} == set(VARIANT_OVERRIDES)


def test_ablation_group_is_the_full_recipe_and_one_cell_per_ingredient() -> None:
    ablation = cells("ablation")
    assert ablation[0].name == "organmnist3d/vivit-medmnist/spatio_temporal" and ablation[0].label == "full recipe"
    assert len(ablation) == 1 + len(ABLATIONS)


def test_datasets_group_is_adrenal_by_default_and_takes_others_on_request() -> None:
    assert [c.dataset for c in cells("datasets")] == ["organmnist3d"] * 3 + ["adrenalmnist3d"] * 3
    # a dataset the earlier recipes never ran on gets the shipped recipe's row alone
    assert cells("datasets", ("nodulemnist3d",))[3:] == [recommended_cell("nodulemnist3d")]
    with pytest.raises(ValueError, match="Unknown dataset 'mnist'"):
        cells("datasets", ("mnist",))


def test_all_runs_every_cell_once() -> None:
    every = [cell.name for cell in cells("all")]
    # the shipped recipe is the candidates table's conv-stem row; the stemless 200-epoch recipe on OrganMNIST3D is the
    # longer table's row, on AdrenalMNIST3D a row of its own beside the 100-epoch one
    assert len(every) == len(set(every)) == 8 + len(ABLATIONS) + 2 + len(LONGER) + len(ADDITIONS) + 2 * len(CANDIDATES)


def test_each_datasets_first_row_is_the_recipe_exactly_as_shipped_then_the_recipes_it_replaced() -> None:
    assert load_recipe(RECOMMENDED).train.epochs == SHIPPED_EPOCHS
    for dataset in ("organmnist3d", "adrenalmnist3d"):
        shipped, stemless, first = [cell for cell in cells("datasets") if cell.dataset == dataset]
        assert shipped == recommended_cell(dataset) and stemless == stemless_cell(dataset)
        assert load_recipe(RECOMMENDED, [f"data.dataset={dataset}", *shipped.overrides]) == load_recipe(
            RECOMMENDED, [f"data.dataset={dataset}"])
        assert recipe_of(shipped)["model"]["stem_channels"] == [8]
        assert (recipe_of(stemless)["train"]["epochs"], recipe_of(stemless)["model"]["stem_channels"]) == (SHIPPED_EPOCHS, [])
        assert (recipe_of(first)["train"]["epochs"], recipe_of(first)["model"]["stem_channels"]) == (FIRST_EPOCHS, [])


def test_the_shipped_rows_are_the_conv_stem_candidate_rows_they_won_as() -> None:
    for dataset in ("organmnist3d", "adrenalmnist3d"):
        shipped, candidate = recommended_cell(dataset), candidate_cell("with-conv-stem", dataset)
        assert (shipped.name, recipe_of(shipped)) == (candidate.name, recipe_of(candidate))


def test_rows_trained_before_the_stem_joined_pin_no_stem_unless_they_try_it() -> None:
    shipped = {recommended_cell(d).name for d in ("organmnist3d", "adrenalmnist3d")}
    for cell in cells("all"):
        if cell.recipe == RECOMMENDED and cell.name not in shipped:
            assert recipe_of(cell)["model"]["stem_channels"] == ([8] if "conv-stem" in cell.name else []), cell.name


def test_rows_trained_before_the_switch_to_200_epochs_pin_their_100() -> None:
    shipped = {recommended_cell(d).name for d in ("organmnist3d", "adrenalmnist3d")}
    for cell in cells("all"):
        if cell.recipe == RECOMMENDED and cell.name not in shipped and "epochs" not in cell.name:
            assert recipe_of(cell)["train"]["epochs"] == FIRST_EPOCHS, cell.name


def with_validation(cell: str, seed: int, accuracy: float, lowest_loss: float) -> dict[str, Any]:
    """A finished, diagnosed run whose validation figures are the ones given."""
    curves = {"train_accuracy_last": 1.0, "val_loss_lowest": lowest_loss, "val_loss_lowest_epoch": 50,
              "val_loss_last": 1.2 * lowest_loss}
    test_errors = {"errors": 30, "samples": 300, "left_right_swaps": None, "confusions": [["a", "b", 30]]}
    return {**entry(cell, seed, 0.9, epochs_run=200, selected_epoch=50), "val": {"accuracy": accuracy, "auc": 0.99},
            "diagnosis": {"curves": curves, "test_errors": test_errors}}


def test_the_epochs_rule_is_applied_to_validation_figures_once_every_seed_of_both_rows_is_in() -> None:
    first, longer = "organmnist3d/vivit-medmnist/spatio_temporal", "organmnist3d/vivit-medmnist-200-epochs"
    entries = [with_validation(first, s, 0.94, 0.25) for s in (42, 1, 2)] + [with_validation(longer, s, 0.96, 0.22) for s in (42, 1)]
    assert epochs_verdict(entries, [42, 1, 2]) == ""
    verdict = epochs_verdict([*entries, with_validation(longer, 2, 0.96, 0.22)], [42, 1, 2])
    assert "mean val ACC 0.940 at 100 epochs against 0.960 at 200" in verdict and "win on both" in verdict
    lower_loss_only = [*entries[:3], *(with_validation(longer, s, 0.93, 0.22) for s in (42, 1, 2))]
    assert "should train 100" in epochs_verdict(lower_loss_only, [42, 1, 2])


def test_longer_group_is_the_full_recipe_then_the_same_recipe_with_more_epochs_only() -> None:
    full, *longer = cells("longer")
    assert full.name == "organmnist3d/vivit-medmnist/spatio_temporal"
    for cell in longer:
        base, changed = recipe_of(full), recipe_of(cell)
        assert changed["train"]["epochs"] > base["train"]["epochs"]
        assert {**changed, "train": {**changed["train"], "epochs": base["train"]["epochs"]}} == base


def test_additions_group_is_the_full_recipe_then_the_same_recipe_with_one_section_changed() -> None:
    full, *added = cells("additions")
    assert full.name == "organmnist3d/vivit-medmnist/spatio_temporal"
    for cell in added:
        base, changed = recipe_of(full), recipe_of(cell)
        assert [section for section in base if changed[section] != base[section]] in (["model"], ["augment"])


def test_candidates_group_is_each_datasets_recipe_they_were_judged_against_then_it_with_one_section_changed() -> None:
    selection = cells("candidates")
    assert [c.dataset for c in selection] == ["organmnist3d"] * (1 + len(CANDIDATES)) + ["adrenalmnist3d"] * (1 + len(CANDIDATES))
    for dataset in ("organmnist3d", "adrenalmnist3d"):
        shipped, *candidates = [c for c in selection if c.dataset == dataset]
        assert shipped == stemless_cell(dataset)
        for cell in candidates:
            base, changed = recipe_of(shipped), recipe_of(cell)
            assert [section for section in base if changed[section] != base[section]] in (["model"], ["augment"])


def shipped_and_conv_stem(dataset: str) -> tuple[str, str]:
    """The names of a dataset's row of the recipe as shipped when the candidates ran, and its conv-stem row."""
    return stemless_cell(dataset).name, candidate_cell("with-conv-stem", dataset).name


def test_a_candidate_joins_only_if_it_wins_on_validation_on_every_dataset() -> None:
    organ, adrenal = shipped_and_conv_stem("organmnist3d"), shipped_and_conv_stem("adrenalmnist3d")
    wins_on_organ = [with_validation(organ[0], s, 0.96, 0.20) for s in (42, 1, 2)] + [
        with_validation(organ[1], s, 0.98, 0.15) for s in (42, 1, 2)]
    adrenal_shipped = [with_validation(adrenal[0], s, 0.86, 0.40) for s in (42, 1, 2)]
    datasets = ("organmnist3d", "adrenalmnist3d")
    assert candidates_verdict([*wins_on_organ, *adrenal_shipped], [42, 1, 2], datasets) == ""  # adrenal not in yet
    loses_on_adrenal = [with_validation(adrenal[1], s, 0.85, 0.38) for s in (42, 1, 2)]
    verdict = candidates_verdict([*wins_on_organ, *adrenal_shipped, *loses_on_adrenal], [42, 1, 2], datasets)
    assert "adrenalmnist3d: mean val ACC 0.860 against 0.850" in verdict and "stays as it is" in verdict
    wins_on_adrenal = [with_validation(adrenal[1], s, 0.88, 0.38) for s in (42, 1, 2)]
    assert "joins the shipped recipe" in candidates_verdict([*wins_on_organ, *adrenal_shipped, *wins_on_adrenal],
                                                            [42, 1, 2], datasets)


def test_the_page_states_the_candidates_verdict_under_their_table_once_every_row_has_every_seed() -> None:
    organ, adrenal = shipped_and_conv_stem("organmnist3d"), shipped_and_conv_stem("adrenalmnist3d")
    entries = [with_validation(row, s, 0.90, 0.30) for row in (organ[0], adrenal[0]) for s in (42, 1, 2)]
    entries += [with_validation(row, s, 0.95, 0.20) for row in (organ[1], adrenal[1]) for s in (42, 1)]
    assert "The rule's figures" not in render(entries, [42, 1, 2])
    entries += [with_validation(row, 2, 0.95, 0.20) for row in (organ[1], adrenal[1])]
    page = render(entries, [42, 1, 2])
    verdict_at = page.index("The rule's figures for `with-conv-stem`")
    last_candidate_row = page.rindex("| vivit-medmnist with a convolutional stem", 0, verdict_at)
    assert "Commands:" not in page[last_candidate_row:verdict_at]  # right under the table, before its commands
    assert "organmnist3d: mean val ACC 0.900 against 0.950, mean lowest val loss 0.3000 against 0.2000" in page
    assert "adrenalmnist3d: mean val ACC 0.900 against 0.950" in page and "joins the shipped recipe" in page


def test_the_bars_table_says_a_target_is_met_only_when_every_seeds_mean_reaches_both_figures() -> None:
    organ = recommended_cell("organmnist3d").name

    def bars(entries: list[dict[str, Any]]) -> str:
        return next(line for line in render(entries, [42, 1, 2]).splitlines() if line.startswith("| organmnist3d |"))

    assert bars([entry(organ, 42, 0.95)]).endswith("| 0.950 | 0.900 | open: 1 of 3 seeds |")
    short_on_auc = [entry(organ, s, 0.95) for s in (42, 1, 2)]  # entry() gives test AUC 0.9, under 0.997
    assert bars(short_on_auc).endswith("| not met (AUC short) |")
    reached = [{**e, "test": {"accuracy": 0.93, "auc": 0.997}} for e in short_on_auc]
    assert bars(reached).endswith("| 0.930 ± 0.000 | 0.997 ± 0.000 | met |")
    assert bars([{**reached[0], "test": {"accuracy": 0.90, "auc": 0.997}}, *reached[1:]]).endswith("| not met (ACC short) |")


def test_only_with_a_cell_name_selects_exactly_that_cell() -> None:
    every = cells("all")
    for cell in every:
        assert matching(every, cell.name) == [cell]


@pytest.mark.parametrize("cell", cells("all"), ids=lambda cell: cell.name)
def test_every_cell_is_a_valid_recipe(cell: Cell) -> None:
    recipe_of(cell)


@pytest.mark.parametrize("recipe", ["keras-seed", "vivit-medmnist"])
def test_variants_keep_the_parameters_of_model_1_within_a_tenth_of_a_percent(recipe: str) -> None:
    counts = [parameters(cell) for cell in cells("recipe-variant") if cell.recipe == recipe]
    assert max(counts) / min(counts) < 1.001


@pytest.mark.parametrize("ablated", cells("ablation")[1:], ids=lambda cell: cell.name)
def test_each_ablation_changes_only_its_own_ingredient(ablated: Cell) -> None:
    full, changed = recipe_of(cells("ablation")[0]), recipe_of(ablated)
    touched = {tuple(o.split("=")[0].split(".")) for o in ablated.overrides}
    differing = {(section, key) for section in full if isinstance(full[section], dict)
                 for key in full[section].keys() | changed[section].keys()
                 if full[section].get(key) != changed[section].get(key)}
    assert differing and differing <= touched


def entry(cell: str, seed: int, accuracy: float, **fields: Any) -> dict[str, Any]:
    machine = {"cpu": "test cpu", "cores": 2, "threads": 1, "torch": "2", "device": "cpu"}
    return {"cell": cell, "dataset": cell.split("/")[0], "seed": seed, "test": {"accuracy": accuracy, "auc": 0.9},
            "val": {"accuracy": 0.8, "auc": 0.95}, "parameters": 1_640_075, "train_minutes": 60.0,
            "machine": machine, "date": "2026-11-28", **fields}


def test_merge_replaces_the_same_cell_and_seed_and_keeps_every_other_entry() -> None:
    old = [entry("a/x", 42, 0.5), entry("a/x", 1, 0.6), entry("b/y", 42, 0.7)]
    merged = merge(old, [entry("a/x", 42, 0.9), entry("c/z", 2, 0.1)])
    assert [(e["cell"], e["seed"], e["test"]["accuracy"]) for e in merged] == [
        ("a/x", 1, 0.6), ("a/x", 42, 0.9), ("b/y", 42, 0.7), ("c/z", 2, 0.1)]


def table_row(page: str, label: str) -> str:
    return next(line for line in page.splitlines() if line.startswith(f"| {label} |"))


def test_page_shows_mean_and_std_finished_seeds_and_cells_not_run_yet() -> None:
    name = "organmnist3d/vivit-medmnist/spatio_temporal"
    page = render([entry(name, 42, 0.90), entry(name, 1, 0.92), entry(recommended_cell("adrenalmnist3d").name, 42, 0.8)],
                  [42, 1, 2])
    assert "fills in as runs finish" in page
    assert "0.910 ± 0.014" in table_row(page, "vivit-medmnist, spatio_temporal")
    assert "| 2 of 3 |" in table_row(page, "vivit-medmnist, spatio_temporal")
    assert "| 0.800 |" in table_row(page, "vivit-medmnist on adrenalmnist3d")
    assert "| 1 of 3 |" in table_row(page, "vivit-medmnist on adrenalmnist3d")
    assert "not run yet" in table_row(page, "keras-seed, factorised_encoder")
    assert "python benchmarks/accuracy.py --only organmnist3d/vivit-medmnist-no-ema --seeds 42 1 2" in page


def test_page_counts_only_the_requested_seeds() -> None:
    page = render([entry(recommended_cell("adrenalmnist3d").name, 7, 0.8)], [42, 1, 2])
    assert "not run yet" in table_row(page, "vivit-medmnist on adrenalmnist3d")


def test_shortened_runs_are_refused_into_the_committed_table() -> None:
    with pytest.raises(SystemExit):
        main(["--only", "adrenalmnist3d", "--epochs", "1"])


def test_one_cell_runs_records_and_is_kept_on_a_rerun(tmp_path: Path) -> None:
    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    results, doc = tmp_path / "accuracy.json", tmp_path / "results.md"
    args = ["--only", "adrenalmnist3d/vivit-medmnist-200-epochs", "--seeds", "42", "--threads", "1", "--data-dir", str(SHARED_DATA),
            "--root", str(tmp_path / "runs"), "--results", str(results), "--doc", str(doc),
            "--epochs", "1", "train.limit_train_batches=2"]
    assert main(args) == 0
    metrics = tmp_path / "runs" / "adrenalmnist3d" / "vivit-medmnist-200-epochs" / "seed42" / "metrics.json"
    finished_at = metrics.stat().st_mtime
    [recorded] = json.loads(results.read_text())["entries"]
    assert (recorded["cell"], recorded["seed"], recorded["epochs_run"]) == ("adrenalmnist3d/vivit-medmnist-200-epochs", 42, 1)
    assert recorded["extra_overrides"] == ["train.limit_train_batches=2", "train.epochs=1"]
    assert recorded["parameters"] == 1_638_914 and set(recorded["test"]) == {"accuracy", "auc"}  # binary: no top-5
    assert recorded["tta"]["views"] == 2 and set(recorded["tta"]["test"]) == {"accuracy", "auc"}  # flip_t: 2 views
    errors = recorded["diagnosis"]["test_errors"]
    assert errors["samples"] == 298 and errors["left_right_swaps"] is None  # the test split; no paired organs
    assert recorded["diagnosis"]["curves"]["val_loss_lowest_epoch"] == 1
    assert recorded["command"].startswith("OMP_NUM_THREADS=1 vivit train --recipe vivit-medmnist --dataset adrenalmnist3d --seed 42")
    assert "| 1 of 3 |" in table_row(doc.read_text(), "vivit-medmnist without the stem on adrenalmnist3d")
    assert main(args) == 0  # finished: recorded again, not retrained
    assert metrics.stat().st_mtime == finished_at
    assert len(json.loads(results.read_text())["entries"]) == 1


def test_runs_side_by_side_are_all_recorded_each_with_its_own_log(tmp_path: Path) -> None:
    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    results = tmp_path / "accuracy.json"
    args = ["--only", "adrenalmnist3d/vivit-medmnist-200-epochs", "--seeds", "42", "1", "--jobs", "2", "--threads", "1",
            "--data-dir", str(SHARED_DATA), "--root", str(tmp_path / "runs"), "--results", str(results),
            "--doc", str(tmp_path / "results.md"), "--epochs", "1", "train.limit_train_batches=2"]
    assert main(args) == 0
    entries = json.loads(results.read_text())["entries"]
    assert sorted(e["seed"] for e in entries) == [1, 42]
    logs = sorted(p.name for p in (tmp_path / "runs" / "logs").iterdir())
    assert logs == ["adrenalmnist3d-vivit-medmnist-200-epochs-seed1.log", "adrenalmnist3d-vivit-medmnist-200-epochs-seed42.log"]
    assert "test" in (tmp_path / "runs" / "logs" / logs[0]).read_text()


def test_jobs_below_one_are_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--jobs", "0", "--dry-run"])


def test_a_second_writer_waits_for_the_results_lock(tmp_path: Path) -> None:
    import threading

    results, acquired = tmp_path / "accuracy.json", threading.Event()

    def second_writer() -> None:
        with results_lock(results):
            acquired.set()

    with results_lock(results):
        writer = threading.Thread(target=second_writer)
        writer.start()
        assert not acquired.wait(0.5)  # blocked while the first holds it
    assert acquired.wait(10)
    writer.join()


def test_skip_recorded_leaves_out_the_seeds_the_json_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "accuracy.json"
    results.write_text(json.dumps({"entries": [{"cell": "adrenalmnist3d/vivit-medmnist-200-epochs", "seed": 42}]}))
    args = ["--only", "adrenalmnist3d/vivit-medmnist-200-epochs", "--seeds", "42", "1", "--dry-run", "--root", str(tmp_path / "runs"),
            "--results", str(results), "--doc", str(tmp_path / "results.md")]
    assert main([*args, "--skip-recorded"]) == 0
    assert [line.split("--seed ")[1][:2] for line in capsys.readouterr().out.splitlines()] == ["1 "]
    assert main(args) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_the_gpu_script_dry_run_trains_and_records_on_the_cpu(tmp_path: Path) -> None:
    """benchmarks/accuracy_gpu.sh --dry-run: its --run path, with two tiny runs on the CPU."""
    import os
    import subprocess
    import sys

    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHON_DRY": sys.executable, "VIVIT_DATA_DIR": str(SHARED_DATA), "TMPDIR": str(tmp_path)}
    result = subprocess.run(["bash", str(repo / "benchmarks" / "accuracy_gpu.sh"), "--dry-run"], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "accuracy.py exit 0" in result.stdout and "2 entries in" in result.stdout


def test_tta_figures_get_their_own_table_beside_the_single_view_ones() -> None:
    name = "organmnist3d/vivit-medmnist/spatio_temporal"
    tta = [{"views": 2, "test": {"accuracy": acc, "auc": 0.995}, "val": {"accuracy": 0.95, "auc": 0.998}} for acc in (0.91, 0.93)]
    entries = [entry(name, 42, 0.90, tta=tta[0]), entry(name, 1, 0.92, tta=tta[1]), entry("adrenalmnist3d/vivit-medmnist-200-epochs", 42, 0.8)]
    page = render(entries, [42, 1, 2])
    assert "Test-time augmentation, reported apart" in page
    tta_section = page[page.index("Test-time augmentation, reported apart"):]
    assert table_row(tta_section, "vivit-medmnist, spatio_temporal") == (
        "| vivit-medmnist, spatio_temporal | 2 | 0.910 ± 0.014 | 0.920 ± 0.014 | 0.900 ± 0.000 | 0.995 ± 0.000 "
        "| 0.950 ± 0.000 | 0.998 ± 0.000 | 2 of 3 |")
    assert "adrenalmnist3d" not in tta_section.split("\n\n")[-1]  # a cell without TTA figures has no row
    assert "Test-time augmentation" not in render(entries[2:], [42, 1, 2])
