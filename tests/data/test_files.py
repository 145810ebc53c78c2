import json
import warnings

import numpy as np
import pandas as pd
import pytest

from mechsparse.data.files import (
    DroppedRowsWarning,
    UserData,
    as_sequences,
    check_output_path,
    from_frame,
    read_data,
    write_latents,
)


def long_table(seed=0, lengths=(5, 3, 1), shuffle=True):
    """Sequences s0, s1, ... of the given lengths with times 10·t, rows shuffled."""
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    frame = pd.DataFrame(
        {
            "id": np.repeat([f"s{i}" for i in range(len(lengths))], lengths),
            "t": np.concatenate([10 * np.arange(k) for k in lengths]),
            "f1": rng.normal(size=n),
            "f2": rng.normal(size=n),
            "act": rng.normal(size=n),
        }
    )
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True) if shuffle else frame


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------ tables
def test_rows_are_grouped_sorted_by_time_and_cut_into_windows():
    frame = long_table()
    with pytest.warns(DroppedRowsWarning, match="1 sequences shorter"):
        data = from_frame(frame, sequence_col="id", time_col="t", action_cols="act", window=2)
    # s0 (5 rows) → 2 windows + 1 tail row, s1 (3 rows) → 1 window + 1, s2 (1 row) dropped
    assert data.x.shape == (3, 2, 2) and data.a.shape == (3, 2, 1)
    assert data.n_dropped_sequences == 1 and data.n_dropped_rows == 3
    assert data.feature_names == ("f1", "f2") and data.action_names == ("act",)
    # every frame joins back to its source row
    np.testing.assert_array_equal(data.x[..., 0], frame["f1"].to_numpy(np.float32)[data.rows])
    np.testing.assert_array_equal(data.a[..., 0], frame["act"].to_numpy(np.float32)[data.rows])
    np.testing.assert_array_equal(data.times, frame["t"].to_numpy()[data.rows])
    assert (np.diff(data.times, axis=1) > 0).all()  # sorted by time within each window
    assert set(frame["id"].to_numpy()[data.rows].ravel()) == {"s0", "s1"}
    assert (frame["id"].to_numpy()[data.rows] == data.sequences[:, None]).all()
    assert "left out 1 sequences" in data.summary()


def test_stride_gives_overlapping_windows():
    frame = long_table(shuffle=False)
    data = quiet(from_frame, frame, sequence_col="id", time_col="t", window=2, stride=1)
    # s0: 4 windows, s1: 2 windows; the features default to every other column
    assert data.n == 6 and data.feature_names == ("f1", "f2", "act")
    np.testing.assert_array_equal(data.rows[:4], [[0, 1], [1, 2], [2, 3], [3, 4]])


def test_table_without_sequence_column_is_one_sequence_or_independent_rows():
    frame = long_table(shuffle=False)
    rows = from_frame(frame, feature_cols="f*")
    assert rows.x.shape == (9, 1, 2)  # every row its own example
    one = quiet(from_frame, frame, feature_cols=["f1", "f2"], window=4)
    assert one.x.shape == (2, 4, 2)
    np.testing.assert_array_equal(one.rows, [[0, 1, 2, 3], [4, 5, 6, 7]])


def test_unequal_sequences_need_a_window():
    with pytest.raises(ValueError, match=r"1 to 5 rows; pass window"):
        from_frame(long_table(), sequence_col="id", time_col="t")
    equal = from_frame(long_table(lengths=(3, 3)), sequence_col="id", time_col="t")
    assert equal.T == 3


def test_csv_and_parquet_read_the_same(tmp_path):
    frame = long_table()
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    options = {"sequence_col": "id", "time_col": "t", "action_cols": ["act"], "window": 2}
    a = quiet(read_data, tmp_path / "d.csv", **options)
    b = quiet(read_data, tmp_path / "d.parquet", **options)
    np.testing.assert_allclose(a.x, b.x)
    np.testing.assert_array_equal(a.rows, b.rows)
    assert a.source.endswith("d.csv")


def test_iso_dates_order_a_sequence():
    frame = pd.DataFrame(
        {"id": [1, 1, 1], "day": ["2024-01-03", "2024-01-01", "2024-01-02"], "f": [3.0, 1.0, 2.0]}
    )
    data = from_frame(frame, sequence_col="id", time_col="day")
    np.testing.assert_array_equal(data.x[0, :, 0], [1.0, 2.0, 3.0])


def test_regime_column(tmp_path):
    frame = long_table(lengths=(4, 4), shuffle=False).assign(regime=[0, 0, 1, 1, 2, 2, 5, 5])
    data = from_frame(frame, sequence_col="id", time_col="t", regime_col="regime", window=2)
    assert data.a.dtype == np.int64 and data.a.shape == (4, 2)
    assert data.aux_type == "discrete" and data.regime_name == "regime"
    np.testing.assert_array_equal(data.a, [[0, 0], [1, 1], [2, 2], [5, 5]])


# ------------------------------------------------------------------------------ errors
def write_csv(tmp_path, frame, name="bad.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_nan_and_inf_name_the_file_column_and_row(tmp_path):
    frame = long_table(shuffle=False)
    frame.loc[4, "f2"] = np.nan
    path = write_csv(tmp_path, frame)
    with pytest.raises(ValueError, match=r"bad\.csv.*'f2'.*missing value.*row 4 \(line 6"):
        read_data(path, sequence_col="id", time_col="t", window=1)
    frame.loc[4, "f2"] = 0.0
    frame.loc[2, "act"] = np.inf
    path = write_csv(tmp_path, frame)
    with pytest.raises(ValueError, match=r"action column 'act' has inf at row 2"):
        read_data(path, sequence_col="id", time_col="t", action_cols="act", window=1)


def test_non_numeric_column_is_named(tmp_path):
    frame = long_table(shuffle=False).assign(label="x")
    frame["f1"] = frame["f1"].astype(object)
    frame.loc[3, "f1"] = "oops"
    path = write_csv(tmp_path, frame)
    with pytest.raises(TypeError, match=r"feature column 'f1' is not numeric.*'oops' at row 3"):
        read_data(path, sequence_col="id", time_col="t", feature_cols="f*", window=1)
    frame["f1"] = 1.0
    path = write_csv(tmp_path, frame)
    with pytest.raises(TypeError, match=r"column 'label' is not numeric.*--feature-cols"):
        read_data(path, sequence_col="id", time_col="t", window=1)


def test_regime_column_with_non_integer_values(tmp_path):
    frame = long_table(shuffle=False).assign(regime=1.0)
    frame.loc[6, "regime"] = 1.5
    path = write_csv(tmp_path, frame)
    with pytest.raises(ValueError, match=r"regime column 'regime' must hold integer.*1\.5.*row 6"):
        read_data(path, sequence_col="id", regime_col="regime", window=1)
    frame["regime"] = "a"
    with pytest.raises(TypeError, match=r"regime column 'regime' must hold integer"):
        from_frame(frame, sequence_col="id", regime_col="regime")


def test_too_few_sequences_and_too_long_window(tmp_path):
    frame = long_table(shuffle=False)
    with pytest.raises(ValueError, match=r"yields 3 sequences.*at least 10"):
        quiet(from_frame, frame, sequence_col="id", window=2, min_sequences=10)
    with pytest.raises(ValueError, match=r"window 6 is longer than every sequence.*longest has 5"):
        from_frame(frame, sequence_col="id", window=6)


def test_missing_column_duplicate_time_and_unknown_suffix(tmp_path):
    frame = long_table(shuffle=False)
    with pytest.raises(ValueError, match=r"time_col 'time' is not a column"):
        from_frame(frame, sequence_col="id", time_col="time")
    with pytest.raises(ValueError, match=r"action_cols entry 'b\*' matches no column"):
        from_frame(frame, action_cols="b*")
    frame.loc[1, "t"] = 0
    with pytest.raises(ValueError, match=r"sequence 's0' has two rows at t = 0 \(row 0 and row 1"):
        from_frame(frame, sequence_col="id", time_col="t", window=1)
    (tmp_path / "d.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match=r"expected a \.npz, \.csv"):
        read_data(tmp_path / "d.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_data(tmp_path / "missing.csv")
    (tmp_path / "d.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=r"cannot read .*d\.parquet.*PARQUET"):
        read_data(tmp_path / "d.parquet")


# ------------------------------------------------------------------------------ npz
def test_npz_arrays_and_windows(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 3))
    np.savez(tmp_path / "d.npz", x=x, a=rng.normal(size=(4, 5, 2)))
    data = quiet(read_data, tmp_path / "d.npz", window=2)
    assert data.x.shape == (8, 2, 3) and data.a.shape == (8, 2, 2)
    assert data.n_dropped_rows == 4 and not data.named_columns
    np.testing.assert_allclose(data.x, x.reshape(-1, 3)[data.rows].astype(np.float32))
    np.testing.assert_array_equal(data.sequences, [0, 0, 1, 1, 2, 2, 3, 3])
    whole = read_data(tmp_path / "d.npz")
    assert whole.T == 5 and whole.n == 4
    np.savez(tmp_path / "flat.npz", x=rng.normal(size=(6, 3)), a=np.arange(6) % 2)
    flat = read_data(tmp_path / "flat.npz")
    assert flat.x.shape == (6, 1, 3) and flat.a.shape == (6, 1) and flat.aux_type == "discrete"


def test_npz_errors_name_the_array(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "n.npz", x=rng.normal(size=(4, 2, 3)), a=rng.normal(size=(5, 2, 1)))
    with pytest.raises(ValueError, match=r"same \(n, T\).*n\.npz: a has shape \(5, 2, 1\)"):
        read_data(tmp_path / "n.npz")
    np.savez(tmp_path / "t.npz", x=rng.normal(size=(4, 2, 3)), a=rng.normal(size=(4, 3, 1)))
    with pytest.raises(ValueError, match=r"same \(n, T\)"):
        read_data(tmp_path / "t.npz")
    x = rng.normal(size=(4, 2, 3))
    x[2, 1, 0] = np.nan
    np.savez(tmp_path / "nan.npz", x=x)
    with pytest.raises(ValueError, match=r"nan\.npz: x contains NaN.*\(2, 1, 0\)"):
        read_data(tmp_path / "nan.npz")
    np.savez(tmp_path / "r.npz", x=x[:, :, 1:], a=np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match=r"regime labels, which must be integers"):
        read_data(tmp_path / "r.npz")
    np.savez(tmp_path / "k.npz", X=x)
    with pytest.raises(ValueError, match=r"no array 'x'.*\['X'\]"):
        read_data(tmp_path / "k.npz")
    np.savez(tmp_path / "o.npz", x=np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="numeric"):
        read_data(tmp_path / "o.npz")
    (tmp_path / "c.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(ValueError, match=r"c\.npz"):
        read_data(tmp_path / "c.npz")
    with pytest.raises(ValueError, match="apply to CSV/Parquet tables"):
        read_data(tmp_path / "n.npz", sequence_col="id")


def test_as_sequences_layouts():
    x3 = np.zeros((4, 2, 3))
    _, a, regime = as_sequences(x3, np.zeros((4, 2), dtype=int))
    assert regime and a.shape == (4, 2)
    _, a, regime = as_sequences(x3, np.ones((4, 2, 5)))
    assert not regime and a.shape == (4, 2, 5) and a.dtype == np.float32
    x2, a, _ = as_sequences(np.zeros((4, 3)), np.ones((4, 5)))
    assert x2.shape == (4, 1, 3) and a.shape == (4, 1, 5)
    with pytest.raises(ValueError, match=r"must be 1-D or 2-D"):
        as_sequences(np.zeros((4, 3)), np.ones((4, 1, 5)))


# ------------------------------------------------------------------------------ writing
def small_data():
    return quiet(from_frame, long_table(), sequence_col="id", time_col="t", window=2)


@pytest.mark.parametrize("suffix", ["npz", "csv", "parquet"])
def test_write_latents_joins_back_to_rows(tmp_path, suffix):
    data = small_data()
    z = np.arange(data.n * data.T * 3, dtype=np.float32).reshape(data.n, data.T, 3)
    path = write_latents(tmp_path / f"z.{suffix}", z, data)
    if suffix == "npz":
        with np.load(path, allow_pickle=False) as out:
            np.testing.assert_array_equal(out["z"], z)
            np.testing.assert_array_equal(out["row"], data.rows)
            assert out["sequence"].tolist() == data.sequences.tolist()
            assert json.loads(str(out["meta"]))["T"] == 2
        return
    table = pd.read_csv(path) if suffix == "csv" else pd.read_parquet(path)
    assert list(table.columns) == ["row", "id", "t", "window", "z0", "z1", "z2"]
    np.testing.assert_array_equal(table["row"], data.rows.ravel())
    np.testing.assert_allclose(table[["z0", "z1", "z2"]].to_numpy(), z.reshape(-1, 3))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"z.{suffix}"]  # no temporary left


def test_outputs_are_not_overwritten_by_default(tmp_path):
    data = small_data()
    z = np.zeros((data.n, data.T, 2), dtype=np.float32)
    (tmp_path / "z.npz").write_text("keep me")
    with pytest.raises(FileExistsError, match="already exists; pass --overwrite"):
        write_latents(tmp_path / "z.npz", z, data)
    assert (tmp_path / "z.npz").read_text() == "keep me"
    write_latents(tmp_path / "z.npz", z, data, overwrite=True)
    assert np.load(tmp_path / "z.npz")["z"].shape == z.shape
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_output_path(tmp_path / "no" / "z.npz")
    with pytest.raises(ValueError, match=r"\(n, T\)"):
        write_latents(tmp_path / "w.npz", z[:1], data)
    assert isinstance(data, UserData)
