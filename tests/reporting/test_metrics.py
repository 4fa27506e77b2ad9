"""ROC curves and per-class scores, against small cases worked out by hand; one AUC with `vivit evaluate`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import multiclass_auroc

from vivit.evaluation.metrics import ClassificationMetrics
from vivit.reporting.build import headline_metrics
from vivit.training.run_dir import RunDir
from vivit.reporting.metrics import confusion_matrix, one_vs_rest_roc, per_class_scores, roc_curve
from vivit.reporting.predictions import SplitPredictions


def test_roc_steps_through_each_score_from_the_highest() -> None:
    # Ranked: pos .9, neg .8, pos .7, neg .6.
    curve = roc_curve(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0], dtype=bool))
    np.testing.assert_allclose(curve.false_positive_rate, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(curve.true_positive_rate, [0, 0.5, 0.5, 1, 1])
    # 3 of the 4 (positive, negative) pairs are ranked correctly.
    assert curve.auc == pytest.approx(0.75)


def test_roc_moves_diagonally_through_tied_scores_which_count_half() -> None:
    curve = roc_curve(np.array([0.5, 0.5, 0.2]), np.array([1, 0, 0], dtype=bool))
    np.testing.assert_allclose(curve.false_positive_rate, [0, 0.5, 1])
    np.testing.assert_allclose(curve.true_positive_rate, [0, 1, 1])
    assert curve.auc == pytest.approx(0.75)  # one pair won, one tied


def test_roc_of_a_perfect_ranking_has_area_one() -> None:
    assert roc_curve(np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0], dtype=bool)).auc == pytest.approx(1.0)


def test_roc_is_undefined_without_both_classes() -> None:
    assert roc_curve(np.array([0.9, 0.1]), np.array([1, 1], dtype=bool)) is None
    assert roc_curve(np.array([0.9, 0.1]), np.array([0, 0], dtype=bool)) is None


def test_one_vs_rest_areas_match_torchmetrics() -> None:
    generator = torch.Generator().manual_seed(0)
    probabilities = torch.rand(200, 5, generator=generator).softmax(dim=1)
    labels = torch.randint(0, 5, (200,), generator=generator)
    curves = one_vs_rest_roc(probabilities.numpy(), labels.numpy())
    expected = multiclass_auroc(probabilities, labels, num_classes=5, average=None)
    np.testing.assert_allclose([curves[c].auc for c in range(5)], expected.numpy(), atol=1e-6)


def _evaluated_auc(probabilities: torch.Tensor, labels: torch.Tensor) -> float:
    metrics = ClassificationMetrics(probabilities.shape[1], sync_across_ranks=False)
    metrics.update(probabilities.log(), labels)  # logits whose softmax is `probabilities`
    return metrics.compute()["auc"]


@pytest.mark.filterwarnings("ignore:No positive samples")  # torchmetrics on the absent class
@pytest.mark.parametrize(("num_classes", "absent"), [(2, None), (5, None), (5, 4)])
def test_the_report_shows_the_auc_vivit_evaluate_computes(tmp_path: Path, num_classes: int, absent: int | None) -> None:
    generator = torch.Generator().manual_seed(num_classes)
    probabilities = torch.rand(120, num_classes, generator=generator).softmax(dim=1)
    labels = torch.randint(0, num_classes, (120,), generator=generator)
    if absent is not None:  # a class missing from the split: both count it the same way
        labels[labels == absent] = 0
    predictions = SplitPredictions(probabilities.numpy(), labels.numpy())
    shown = headline_metrics(RunDir(tmp_path), "test", predictions)["test"]["auc"]  # no metrics.json: computed
    assert shown == pytest.approx(_evaluated_auc(probabilities, labels), abs=1e-6)


def test_a_binary_reports_roc_curve_has_the_evaluated_auc() -> None:
    generator = torch.Generator().manual_seed(1)
    probabilities = torch.rand(80, 2, generator=generator).softmax(dim=1)
    labels = torch.randint(0, 2, (80,), generator=generator)
    curve = one_vs_rest_roc(probabilities.numpy(), labels.numpy())[1]  # the curve the binary report draws
    assert curve.auc == pytest.approx(_evaluated_auc(probabilities, labels), abs=1e-6)


def test_confusion_matrix_rows_are_true_classes() -> None:
    confusion = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), num_classes=3)
    np.testing.assert_array_equal(confusion, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])


def test_per_class_precision_recall_and_f1_by_hand() -> None:
    # true 0: 3 right, 1 called 1;  true 1: 2 right, 2 called 0;  true 2: never predicted.
    confusion = np.array([[3, 1, 0], [2, 2, 0], [0, 1, 0]])
    scores = per_class_scores(confusion)
    np.testing.assert_array_equal(scores.support, [4, 4, 1])
    np.testing.assert_allclose(scores.precision, [3 / 5, 2 / 4, np.nan])
    np.testing.assert_allclose(scores.recall, [3 / 4, 2 / 4, 0.0])
    np.testing.assert_allclose(scores.f1, [2 * 0.6 * 0.75 / 1.35, 0.5, np.nan])


def test_a_class_absent_from_the_split_has_no_recall() -> None:
    scores = per_class_scores(np.array([[2, 0], [0, 0]]))
    assert np.isnan(scores.recall[1]) and scores.support[1] == 0
