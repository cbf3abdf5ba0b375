"""A Dask cluster's executor gives the same sweep table as a local pool."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from storylab.tuning import sweep

distributed = pytest.importorskip("distributed")

GRID = {"x": [0.25, -1.0, 3.0], "n": [2, 9]}


def seeded(x: float, n: int, seed: int) -> dict[str, float]:
    import numpy as np

    if x < 0:
        raise ArithmeticError("negative")
    return {"value": float(np.random.default_rng(seed).normal(x, 1.0, n).sum())}


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_local_cluster_matches_local_pool(processes):
    expected = sweep(seeded, GRID, seed=4, executor=ThreadPoolExecutor(1), progress=False)
    cluster = distributed.LocalCluster(
        n_workers=2 if processes else 1,
        threads_per_worker=1 if processes else 2,
        processes=processes,
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        frame = sweep(seeded, GRID, seed=4, executor=client.get_executor(), progress=False)
    assert frame.status.tolist().count("failed") == 2
    pd.testing.assert_frame_equal(
        frame.drop(columns="elapsed_s"), expected.drop(columns="elapsed_s")
    )
