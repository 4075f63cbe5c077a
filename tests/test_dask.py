"""Training and inference on Dask, against a real dask.distributed LocalCluster.

The module starts one cluster of two worker processes (one thread each) and runs
every test on it, as a user would on a laptop or, pointing the client elsewhere, on a
remote cluster.
"""

import numpy as np
import pytest

_NEEDS_EXTRA = "needs the dask extra: pip install '.[dask]'"
pytest.importorskip("dask_ml", reason=_NEEDS_EXTRA)
pytest.importorskip("distributed", reason=_NEEDS_EXTRA)

import dask.array as da  # noqa: E402
import joblib  # noqa: E402
import torch  # noqa: E402
from _shared import curved_manifold  # noqa: E402
from dask_ml.wrappers import Incremental, ParallelPostFit  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from sk_autoencoder import AutoencoderAnomalyDetector, AutoencoderTransformer  # noqa: E402

pytestmark = [pytest.mark.dask, pytest.mark.timeout(180)]

NET = dict(hidden_layer_sizes=(16,), n_components=2, batch_size=50, learning_rate=0.01)


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def make_data(n_rows=2000, seed=0):
    """Eight columns on different scales, and a target linear in the latent factors."""
    X, latent = curved_manifold(n_rows, 8, seed)
    return X, latent @ np.array([1.0, -2.0])


def relative_error(estimator, X):
    """Mean squared reconstruction error in original units, over the data's variance."""
    X_hat = estimator.inverse_transform(estimator.transform(X))
    return float(np.mean((X_hat - X) ** 2) / X.var(axis=0).mean())


def test_incremental_matches_in_memory_fit(client):
    X, _ = make_data()
    X_test, _ = make_data(500, seed=1)
    passes = 8
    in_memory = AutoencoderTransformer(max_epochs=passes, random_state=0, **NET).fit(X)

    X_dask = da.from_array(X, chunks=(250, X.shape[1]))
    incremental = Incremental(AutoencoderTransformer(random_state=0, **NET), random_state=0)
    for _ in range(passes):  # each call is one pass over the blocks, in random order
        incremental.partial_fit(X_dask)
    streamed = incremental.estimator_

    assert streamed.n_iter_ == passes * X_dask.numblocks[0]
    np.testing.assert_allclose(streamed.scaler_.mean_, X.mean(axis=0), rtol=1e-4, atol=1e-5)
    error, reference = relative_error(streamed, X_test), relative_error(in_memory, X_test)
    assert error < 0.6  # it learnt: predicting the mean scores 1.0
    assert abs(error - reference) <= 0.1 * reference


def test_parallel_post_fit_equals_in_memory(client):
    X, _ = make_data(1000)
    ae = AutoencoderTransformer(max_epochs=3, random_state=0, **NET).fit(X)
    X_dask = da.from_array(X, chunks=(300, X.shape[1]))

    codes = ParallelPostFit(ae, transform_meta=np.empty((0, 2), np.float32)).transform(X_dask)
    assert isinstance(codes, da.Array)
    np.testing.assert_array_equal(codes.compute(), ae.transform(X))

    # map_blocks with the output chunks gives a Dask array of the right shape.
    codes = X_dask.map_blocks(
        ae.transform, chunks=(X_dask.chunks[0], (ae.n_components_,)), dtype=np.float32
    )
    assert codes.shape == (1000, 2)
    np.testing.assert_array_equal(codes.compute(), ae.transform(X))

    scores = X_dask.map_blocks(ae.score_samples, drop_axis=1, dtype=np.float32)
    assert scores.shape == (1000,)
    np.testing.assert_array_equal(scores.compute(), ae.score_samples(X))


def _mean_score(estimator, X, y=None):
    return float(np.mean(estimator.score_samples(X)))


def test_detector_incremental_and_parallel_predict(client):
    X, _ = make_data(1000)
    # Off the manifold: independent noise, several standard deviations per column.
    X[:10] = 4 * X.std(axis=0) * np.random.RandomState(1).choice([-1, 1], size=(10, 8))
    X_dask = da.from_array(X, chunks=(250, X.shape[1]))
    incremental = Incremental(
        AutoencoderAnomalyDetector(random_state=0, partial_fit_epochs=3, **NET),
        # Like IsolationForest, the detector has no score(); Incremental wants a scorer.
        scoring=_mean_score,
        predict_meta=np.empty(0, dtype=int),
        random_state=0,
    )
    incremental.fit(X_dask)
    detector = incremental.estimator_
    labels = incremental.predict(X_dask)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), detector.predict(X))
    assert (detector.predict(X[:10]) == -1).all()


class _RecordThreads(Callback):
    def on_epoch_begin(self, net, **kwargs):
        self.threads_ = torch.get_num_threads()


def _threads_while_training():
    X, _ = make_data(200)
    recorder = _RecordThreads()
    AutoencoderTransformer(max_epochs=1, callbacks=[recorder], **NET).fit(X)
    return recorder.threads_


def test_workers_train_with_one_torch_thread(client):
    # The nanny starts worker processes with OMP_NUM_THREADS=1 (dask's
    # distributed.nanny.pre-spawn-environ), so torch's pool matches the one task a
    # single-threaded worker runs: two workers on two cores do not oversubscribe.
    counts = [client.submit(_threads_while_training, pure=False) for _ in range(2)]
    assert client.gather(counts) == [1, 1]


def test_grid_search_on_dask_backend_matches_serial(client):
    X, y = make_data(600)
    pipe = Pipeline(
        [("ae", AutoencoderTransformer(max_epochs=8, random_state=0, **NET)), ("ridge", Ridge())]
    )
    grid = {"ae__n_components": [1, 2], "ae__hidden_layer_sizes": [(4,), (16,)]}
    cv = KFold(3, shuffle=True, random_state=0)
    serial = GridSearchCV(pipe, grid, cv=cv, n_jobs=1).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    assert on_dask.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"], rtol=1e-4
    )
    # Two codes are needed to predict a target built from two latent directions.
    assert on_dask.best_params_["ae__n_components"] == 2
