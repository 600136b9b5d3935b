"""Sparse features side by side: the same matrix, entry by entry and in the same order, as
scipy's `hstack`, and Rasa's error when the sequences differ in length."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.shared.nlu.training_data.features import Features

from bot.rasa_server.hot_path.sparse_features import install, side_by_side


def random_coo(rng: np.random.Generator, rows: int, columns: int, dtype: type) -> scipy.sparse.coo_matrix:
    dense = (rng.random((rows, columns)) < 0.2) * rng.integers(1, 5, (rows, columns))
    return scipy.sparse.coo_matrix(dense.astype(dtype))


@pytest.mark.parametrize("seed", range(20))
def test_two_coo_matrices_side_by_side_are_what_scipy_stacks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 12))
    left = random_coo(rng, rows, int(rng.integers(1, 300)), rng.choice([np.float32, np.float64, np.int64]))
    right = random_coo(rng, rows, int(rng.integers(1, 3000)), rng.choice([np.float32, np.float64]))
    ours, scipys = side_by_side(left, right), scipy.sparse.hstack([left, right])
    assert type(ours) is type(scipys) and ours.shape == scipys.shape and ours.dtype == scipys.dtype
    for field in ("row", "col", "data"):
        assert np.array_equal(getattr(ours, field), getattr(scipys, field)), field


def test_features_of_a_message_combine_as_before_and_refuse_different_lengths() -> None:
    install()
    rng = np.random.default_rng(0)
    first = Features(random_coo(rng, 4, 10, np.float32), "sequence", "text", "regex")
    first.combine_with_features(Features(random_coo(rng, 4, 20, np.float32), "sequence", "text", "count"))
    assert first.features.shape == (4, 30) and scipy.sparse.isspmatrix_coo(first.features)
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        first.combine_with_features(Features(random_coo(rng, 5, 20, np.float32), "sequence", "text", "lexical"))
