"""A message's sparse features side by side, without scipy's general block-matrix builder.

Before DIET reads a message, Rasa puts the sparse features of each featurizer (regex, lexical,
two count-vector ones) side by side, for the tokens and for the sentence: `Features.
_combine_sparse_features`, one `scipy.sparse.hstack` per featurizer after the first. scipy
builds that through `bmat`, which checks and converts every block in Python: 5 % of the Rasa
server's GIL time under 40 concurrent conversations, a quarter of DIET's (py-spy,
docs/benchmarks.md). Two COO matrices side by side are their entries with the right one's
columns shifted, in the same order: what scipy computes too (tests/unit/test_sparse_features.py
compares both, entry by entry, on features of the kinds the pipeline makes).

Installed in the Rasa server by bot/rasa_server/__main__.py; other shapes or formats still go
to scipy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from rasa.shared.nlu.training_data.features import Features


def side_by_side(left: scipy.sparse.spmatrix, right: scipy.sparse.spmatrix) -> scipy.sparse.spmatrix:
    """`scipy.sparse.hstack([left, right])`, for two COO matrices with as many rows directly."""
    if not (scipy.sparse.isspmatrix_coo(left) and scipy.sparse.isspmatrix_coo(right)
            and left.shape[0] == right.shape[0]):
        return scipy.sparse.hstack([left, right])
    dtype = np.result_type(left.dtype, right.dtype)
    rows = np.concatenate([left.row, right.row])
    columns = np.concatenate([left.col, right.col + left.shape[1]])
    index = np.result_type(rows, columns)
    return scipy.sparse.coo_matrix(
        (np.concatenate([left.data, right.data]).astype(dtype, copy=False),
         (rows.astype(index, copy=False), columns.astype(index, copy=False))),
        shape=(left.shape[0], left.shape[1] + right.shape[1]))


def install() -> None:
    """Combine a message's sparse features directly (called before Rasa starts)."""
    if getattr(Features._combine_sparse_features, "direct", False):
        return
    scipys = Features._combine_sparse_features

    def combine(self: Features, additional_features: Features) -> None:
        if self.features.shape[0] != additional_features.features.shape[0]:
            scipys(self, additional_features)  # Rasa's own error for sequences of different lengths
            return
        self.features = side_by_side(self.features, additional_features.features)
        self._cached_fingerprint = None

    combine.direct = True  # type: ignore[attr-defined]
    Features._combine_sparse_features = combine  # type: ignore[method-assign]
