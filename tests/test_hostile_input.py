"""Messy tables: odd dtypes, magnitudes, NaN/inf, non-numeric columns, renamed columns.

The property test at the end draws shapes, dtypes and NaN/inf patterns with
hypothesis; run with ``-s`` to see how many cases it generated and how each ended.
"""

import re
import tracemalloc
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from _shared import ESTIMATORS, TINY
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import sk_autoencoder._data as data_module
import sk_autoencoder._scaling as scaling_module
from sk_autoencoder import (
    AutoencoderAnomalyDetector,
    AutoencoderTransformer,
    TrainingDivergedError,
)


def _finite_outputs(model, X, n_components):
    codes = model.transform(X)
    assert codes.shape == (len(X), n_components)
    assert np.isfinite(codes).all()
    reconstruction = model.inverse_transform(codes)
    assert reconstruction.shape == np.shape(X)
    assert np.isfinite(reconstruction).all()
    scores = model.score_samples(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()


# ------------------------------------------------------------------ values
@pytest.mark.parametrize("preprocessing", ["standard", "minmax"])
def test_constant_columns_do_not_divide_by_zero(preprocessing):
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=30), np.full(30, 5.0), np.zeros(30)])
    model = AutoencoderTransformer(preprocessing=preprocessing, **TINY).fit(X)
    _finite_outputs(model, X, 2)
    a, b = model._affine
    # Constant columns are shifted but not stretched.
    np.testing.assert_array_equal(a[1:], [1.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_and_tiny_magnitudes_are_scaled_in_float64(dtype):
    rng = np.random.RandomState(0)
    base = rng.normal(size=(60, 3))
    X = (base * [1e30, 1e-30, 1.0]).astype(dtype)
    model = AutoencoderTransformer(**TINY).fit(X)
    _finite_outputs(model, X, 2)
    # Standardising erases the units: the scores equal those of the unit-scale
    # table, to float32 rounding.
    reference = AutoencoderTransformer(**TINY).fit(base.astype(dtype))
    np.testing.assert_allclose(model.score_samples(X), reference.score_samples(base), rtol=1e-3)
    # Reconstructions come back in the original units.
    reconstruction = model.inverse_transform(model.transform(X))
    assert 1e28 < np.abs(reconstruction[:, 0]).max() < 1e32
    assert 1e-32 < np.abs(reconstruction[:, 1]).max() < 1e-28


def test_minmax_treats_columns_of_tiny_range_as_constant():
    # scikit-learn's MinMaxScaler rule: a range below 10 * float64 eps is no range.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3)) * [1e30, 1e-30, 1.0]
    model = AutoencoderTransformer(preprocessing="minmax", **TINY).fit(X)
    _finite_outputs(model, X, 2)
    scaled = scaling_module._scaled_float32(X, model._affine, model.preprocessing)
    assert 0.0 <= scaled[:, 0].min() and scaled[:, 0].max() == pytest.approx(1.0)
    assert np.ptp(scaled[:, 1]) < 1e-6


def test_values_beyond_float32_without_scaling_are_refused():
    X = np.array([[1e39, 1.0], [2.0, 3.0], [4.0, 5.0]])
    with pytest.raises(ValueError, match=r"beyond float32's range \(about 3.4e38\)"):
        AutoencoderTransformer(preprocessing=None, **TINY).fit(X)
    # With scaling the same table is fine: it is standardised before the cast.
    _finite_outputs(AutoencoderTransformer(**TINY).fit(X), X, 2)


@pytest.mark.parametrize("preprocessing", ["standard", "minmax"])
def test_spread_overflowing_float64_is_refused(preprocessing):
    X = np.array([[1.7e308, 1.0], [-1.7e308, 3.0], [0.0, 5.0]])
    with pytest.raises(ValueError, match=r"Cannot scale feature\(s\) \[0\]: .*overflows float64"):
        AutoencoderTransformer(preprocessing=preprocessing, **TINY).fit(X)


def test_rows_far_outside_training_data():
    rng = np.random.RandomState(0)
    detector = AutoencoderAnomalyDetector(**TINY).fit(rng.normal(size=(50, 3)))
    # Representable after scaling, but the squared error overflows float32: the
    # score is -inf and the row is an outlier.
    far = np.array([[1e25, 0.0, 0.0], [0.0, 0.0, 0.0]])
    scores = detector.score_samples(far)
    assert scores[0] == -np.inf and np.isfinite(scores[1])
    assert detector.predict(far)[0] == -1
    # Beyond float32 once scaled: refused with the reason.
    with pytest.raises(ValueError, match="so far outside the training data"):
        detector.score_samples(np.array([[1e300, 0.0, 0.0]]))


def test_float32_rows_are_scaled_in_float32_to_their_own_precision(monkeypatch):
    rng = np.random.RandomState(0)
    # Far-from-zero means: the float32 shift must not lose more than the rows' own
    # rounding already did.
    X = (rng.normal(size=(200, 4)) * [1.0, 1e-3, 50.0, 1e4] + [0.0, 5.0, -300.0, 1e6]).astype(
        np.float32
    )
    model = AutoencoderTransformer(**TINY).fit(X)
    fast = model._network_rows(X)
    exact = model._network_rows(X.astype(np.float64))
    # One float32 ulp of each row, in scaled units, bounds the extra rounding.
    a, _ = model._affine
    ulp_scaled = np.spacing(np.abs(X)).astype(np.float64) * np.abs(a)
    assert np.all(np.abs(fast - exact) <= 2 * ulp_scaled + np.spacing(np.abs(exact)))
    # Rows whose float32 scaling overflows go through float64 and get its error.
    calls = Counter()
    original = scaling_module._scale_in_float32

    def counting(rows, a, b):
        result = original(rows, a, b)
        calls["fallback" if result is None else "float32"] += 1
        return result

    monkeypatch.setattr(scaling_module, "_scale_in_float32", counting)
    narrow = AutoencoderTransformer(**TINY).fit(rng.normal(size=(50, 2)) * 0.1)
    with pytest.raises(ValueError, match="so far outside the training data"):
        narrow.transform(np.array([[3e38, 0.0]], dtype=np.float32))
    assert calls == {"fallback": 1}
    # Finite scaled values whose float32 sum overflows: float64 decides, and accepts.
    huge = np.full((20, 2), 3e37, dtype=np.float32)
    np.testing.assert_allclose(
        narrow._network_rows(huge), narrow._network_rows(huge.astype(np.float64)), rtol=1e-6
    )
    assert calls == {"fallback": 2}
    narrow.transform(rng.normal(size=(5, 2)).astype(np.float32))
    assert calls == {"fallback": 2, "float32": 1}


def test_n_components_larger_than_features_works():
    X = np.random.RandomState(0).normal(size=(40, 3))
    model = AutoencoderTransformer(n_components=10, **TINY).fit(X)
    _finite_outputs(model, X, 10)
    assert model.get_feature_names_out().shape == (10,)


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize(
    "dtype, out_dtype",
    [
        (np.float16, np.float64),
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int8, np.float64),
        (np.int64, np.float64),
        (np.uint16, np.float64),
        (bool, np.float64),
    ],
)
def test_numeric_dtypes(dtype, out_dtype):
    X = (np.random.RandomState(0).normal(size=(40, 4)) * 3).astype(dtype)
    model = AutoencoderTransformer(**TINY).fit(X)
    _finite_outputs(model, X, 2)
    assert model.transform(X).dtype == out_dtype


def test_pandas_nullable_dtypes():
    df = pd.DataFrame(
        {
            "i": pd.array([1, 2, 3, 4, 5, 6], dtype="Int64"),
            "f": pd.array([0.5, 1.5, -2.0, 3.0, 0.0, 1.0], dtype="Float64"),
            "b": pd.array([True, False, True, True, False, False], dtype="boolean"),
        }
    )
    model = AutoencoderTransformer(**TINY).fit(df)
    _finite_outputs(model, df, 2)
    # pandas NA is a missing value, exactly like NaN in a float table.
    for column in df:
        with_na = df.copy()
        with_na.loc[2, column] = pd.NA
        with_nan = with_na.astype(np.float64)
        assert np.isnan(with_nan.loc[2, column])
        na_model = AutoencoderTransformer(**TINY).fit(with_na)
        nan_model = AutoencoderTransformer(**TINY).fit(with_nan)
        np.testing.assert_array_equal(na_model.transform(with_na), nan_model.transform(with_nan))
        np.testing.assert_array_equal(model.transform(with_na), model.transform(with_nan))


def test_non_numeric_columns_are_named_with_advice():
    df = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "city": pd.Categorical(["a", "b", "a", "c"]),
            "name": ["p", "q", "r", "s"],
            "mixed": pd.Series([1, "two", 3.0, None], dtype=object),
            "ok_objects": pd.Series([1, 2.5, 3, 4], dtype=object),
        }
    )
    expected = re.escape(
        "AutoencoderAnomalyDetector needs numeric columns; these are not: 'city' (category)"
    )
    with pytest.raises(ValueError, match=expected) as info:
        AutoencoderAnomalyDetector(**TINY).fit(df)
    message = str(info.value)
    assert "'name' (" in message and "'mixed' (object)" in message
    assert "'x'" not in message and "ok_objects" not in message
    assert "ColumnTransformer" in message and "OneHotEncoder" in message
    # The same check at prediction time.
    model = AutoencoderTransformer(**TINY).fit(df[["x", "ok_objects"]])
    bad = df[["x", "ok_objects"]].assign(ok_objects=["u", "v", "w", "z"])
    with pytest.raises(ValueError, match="these are not: 'ok_objects'"):
        model.transform(bad)


# ------------------------------------------------------------------ memory
def test_fit_copies_float32_input_at_most_once(monkeypatch):
    # numpy reports its allocations to tracemalloc: the peak during fit must stay
    # near one copy of X (the scaled float32 training rows) plus chunk temporaries.
    monkeypatch.setattr(data_module, "_CHUNK_ROWS", 1000)
    X = np.random.RandomState(0).normal(size=(40_000, 25)).astype(np.float32)
    model = AutoencoderTransformer(hidden_layer_sizes=(2,), max_epochs=1, batch_size=4000)
    model.fit(X[:100])  # warm up: first calls import and cache, which tracemalloc sees
    tracemalloc.start()
    try:
        model.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * X.nbytes, f"peak {peak / X.nbytes:.2f} x the input"


def test_scoring_allocates_batches_not_full_size_temporaries(monkeypatch):
    X = np.random.RandomState(0).normal(size=(40_000, 25)).astype(np.float32)
    small = dict(hidden_layer_sizes=(2,), max_epochs=1, batch_size=500)
    detector = AutoencoderAnomalyDetector(**small).fit(X[:2000])
    transformer = AutoencoderTransformer(**small).fit(X[:2000])
    codes = transformer.transform(X)
    monkeypatch.setattr(data_module, "_CHUNK_ROWS", 1000)
    calls = [
        (detector.score_samples, X),
        (detector.score_features, X),
        (transformer.transform, X),
        (transformer.inverse_transform, codes),
    ]
    for method, data in calls:
        tracemalloc.start()
        try:
            out = method(data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # The output plus a few batch-sized temporaries (1000 x 25 float64 each).
        assert peak < out.nbytes + 10 * 1000 * 25 * 8, method.__name__


# ------------------------------------------------------------------ property test
DOCUMENTED_ERRORS = {
    "all missing": "with every entry missing (NaN)",
    "inf": "Input X contains infinity",
    "float32 range": "beyond float32's range",
    "float64 spread": "overflows float64",
    "no training rows": "leaves no training rows",
}
OUTCOMES = Counter()
OUTCOMES_BY_PATTERN = Counter()

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, bool]
PATTERNS = [
    "clean",
    "nan cell",
    "inf cell",
    "-inf cell",
    "nan column",
    "constant column",
    "huge column",
    "tiny column",
    "extreme column",
    "mixed magnitudes",
]


@pytest.fixture(scope="module", autouse=True)
def _report_outcomes():
    yield
    if OUTCOMES:
        total = sum(OUTCOMES.values())
        print(f"\nhostile-input property test: {total} generated cases")
        for outcome, count in OUTCOMES.most_common():
            print(f"  {count:5d}  {outcome}")
        print("by pattern:")
        for (pattern, outcome), count in sorted(OUTCOMES_BY_PATTERN.items()):
            print(f"  {count:5d}  {pattern}: {outcome}")


@st.composite
def _tables(draw):
    n_rows = draw(st.one_of(st.just(1), st.integers(2, 40)))
    n_features = draw(st.one_of(st.just(1), st.integers(2, 8), st.integers(60, 120)))
    dtype = draw(st.sampled_from(DTYPES))
    pattern = draw(st.sampled_from(PATTERNS))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.normal(scale=draw(st.sampled_from([1e-3, 1.0, 50.0])), size=(n_rows, n_features))
    row, col = rng.randint(n_rows), rng.randint(n_features)
    if pattern == "nan cell":
        X[row, col] = np.nan
    elif pattern == "inf cell":
        X[row, col] = np.inf
    elif pattern == "-inf cell":
        X[row, col] = -np.inf
    elif pattern == "nan column":
        X[:, col] = np.nan
    elif pattern == "constant column":
        X[:, col] = 3.0
    elif pattern == "huge column":
        X[:, col] *= 1e30
    elif pattern == "tiny column":
        X[:, col] *= 1e-30
    elif pattern == "extreme column":
        X[:, col] = rng.choice([-1.0, 1.0], n_rows) * 1.5e308
    elif pattern == "mixed magnitudes":
        X *= 10.0 ** rng.randint(-30, 30, size=n_features)
    with np.errstate(all="ignore"):
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            X = np.clip(np.nan_to_num(X), info.min, info.max)
        X = X.astype(dtype)
    return X, pattern


# scikit-learn's finiteness check sums the input; inf - inf warns before it raises.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    table=_tables(),
    cls=st.sampled_from(ESTIMATORS),
    preprocessing=st.sampled_from(["standard", "minmax"]),
    n_components=st.integers(1, 4),
    early_stopping=st.booleans(),
    as_frame=st.booleans(),
)
def test_every_input_works_or_raises_a_documented_error(
    table, cls, preprocessing, n_components, early_stopping, as_frame
):
    X, pattern = table
    data = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])]) if as_frame else X
    model = cls(
        n_components=n_components,
        preprocessing=preprocessing,
        early_stopping=early_stopping,
        hidden_layer_sizes=(4,),
        max_epochs=1,
        random_state=0,
    )
    try:
        model.fit(data)
        scores = model.score_samples(data)
        if cls is AutoencoderTransformer:
            codes = model.transform(data)
            assert codes.shape == (len(X), n_components)
            assert np.isfinite(codes).all()
            assert codes.dtype == (np.float32 if X.dtype == np.float32 else np.float64)
            reconstruction = model.inverse_transform(codes)
            assert reconstruction.shape == X.shape
            assert np.isfinite(reconstruction).all()
        else:
            labels = model.predict(data)
            assert labels.shape == (len(X),) and set(np.unique(labels)) <= {-1, 1}
            assert np.shape(model.score_features(data)) == X.shape
        assert scores.shape == (len(X),) and np.isfinite(scores).all()
        outcome = "works"
    except ValueError as error:
        kinds = [k for k, text in DOCUMENTED_ERRORS.items() if text in str(error)]
        assert kinds, f"undocumented ValueError for {pattern}, {X.dtype}: {error}"
        outcome = f"ValueError ({kinds[0]})"
    except TrainingDivergedError:
        outcome = "TrainingDivergedError"
    OUTCOMES[outcome] += 1
    OUTCOMES_BY_PATTERN[pattern, outcome] += 1
    event(outcome)
