"""EnergyLens from Python: a ctypes binding over libenergylens.

Nothing is compiled for it: the module loads the shared library (installed,
or the build tree's) with the standard library's ctypes and calls its public
API (include/energylens/energylens.h). numpy and pandas are optional: columns
may be lists, numpy arrays or a pandas DataFrame. Results are plain Python
objects (dicts, lists, floats); errors are raised as energylens.Error (a
subclass per status) carrying the library's message, which names the file,
row and column where they apply.

    import energylens as el
    t = el.read_csv("measurements.csv", schema="mlenergy",
                    where=["model=Qwen/Qwen3-32B", "task=lm-arena-chat"])
    with el.fit(t, method="energylens", seed=1) as m:
        print(m.params["a_d"], m.predict(t)[:3])
        print(el.select(m, space={"tp": [1, 2], "pp": 1, "batch": "8..1024:x2",
                                  "s_in": 1, "s_out": 900})["best"])

Handles (Table, Model, Front) free their library object when garbage
collected, on close(), or at the end of a with block.

The library is found, in order: $ENERGYLENS_LIBRARY (a path); beside an
installed package (PREFIX/lib/pythonX.Y/dist-packages/energylens ->
PREFIX/lib/libenergylens.so.MAJOR); the build tree of a source checkout
(python/energylens -> build/libenergylens.so); the dynamic loader's search
path (libenergylens.so.MAJOR).
"""

import ctypes
import json
import math
import os
import pathlib

__all__ = [
    "Error", "InvalidArgumentError", "NoMemoryError", "FileError", "ParseError",
    "NumericError", "UnavailableError", "LimitError", "DataError", "MissingError",
    "Table", "Model", "Front", "read_csv", "table", "fit", "select", "discover",
    "methods", "templates", "version", "library_path", "units",
]

ABI_MAJOR = 1  # the SONAME this binding was written for: libenergylens.so.1

# ---------------------------------------------------------------------------
# Loading the library
# ---------------------------------------------------------------------------


def _candidates():
    env = os.environ.get("ENERGYLENS_LIBRARY")
    if env:
        yield env
        return
    here = pathlib.Path(__file__).resolve().parent
    soname = "libenergylens.so.%d" % ABI_MAJOR
    if len(here.parents) > 2:
        yield str(here.parents[2] / soname)  # PREFIX/lib/pythonX.Y/dist-packages/energylens
    yield str(here.parents[1] / "build" / "libenergylens.so")  # source checkout
    yield soname


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("energylens: cannot load libenergylens (set ENERGYLENS_LIBRARY): "
                      + ("; ".join(errors) or "not found"))


_lib, _path = _load()

_c = ctypes
_vp = _c.c_void_p
_sz = _c.c_size_t
_st = _c.c_int
_cp = _c.c_char_p
_dbl = _c.c_double
_PAD = 512  # spare room after each struct the library fills (append-only ABI)


class _ErrorStruct(_c.Structure):
    _fields_ = [("status", _c.c_int), ("text", _c.c_char * 512), ("file", _c.c_char * 256),
                ("row", _c.c_long), ("column", _c.c_long)]


class _FitInfo(_c.Structure):
    _fields_ = [("fitted", _c.c_int), ("method", _c.c_char * 32), ("loss_kind", _c.c_char * 16),
                ("stop", _c.c_char * 48), ("loss", _dbl), ("mape", _dbl), ("r2", _dbl),
                ("rmse", _dbl), ("nrows", _sz), ("nstarts", _sz), ("nevals", _sz),
                ("seed", _c.c_uint64), ("data_checksum", _c.c_uint64), ("seconds", _dbl),
                ("nfree", _sz), ("_pad", _c.c_char * _PAD)]


class _SrEntry(_c.Structure):
    _fields_ = [("complexity", _sz), ("loss", _dbl), ("score", _dbl), ("r2", _dbl),
                ("mape", _dbl), ("rmse", _dbl), ("nconst", _sz), ("_pad", _c.c_char * _PAD)]


class _SrStats(_c.Structure):
    _fields_ = [("evals", _sz), ("epochs", _sz), ("seconds", _dbl), ("cancelled", _c.c_int),
                ("timed_out", _c.c_int), ("nrows", _sz), ("_pad", _c.c_char * _PAD)]


class _UnitsIn(_c.Structure):
    _fields_ = [("energy_j", _dbl), ("s_out", _dbl), ("latency_s", _dbl), ("batch", _dbl),
                ("gpus", _dbl), ("carbon_g_per_kwh", _dbl), ("price_per_kwh", _dbl)]


class _Units(_c.Structure):
    _fields_ = [("j_per_request", _dbl), ("j_per_token", _dbl), ("tokens_per_s", _dbl),
                ("gpu_hours_per_mreq", _dbl), ("kwh_per_mreq", _dbl),
                ("co2e_g_per_mreq", _dbl), ("cost_per_mreq", _dbl),
                ("_pad", _c.c_char * _PAD)]


_E = _c.POINTER(_ErrorStruct)
_PP = _c.POINTER(_vp)


def _fn(name, restype, *argtypes, optional=False):
    try:
        f = getattr(_lib, name)
    except AttributeError:
        if optional:
            return None
        raise
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_version = _fn("el_version", _cp)
_version_number = _fn("el_version_number", _c.c_int)
_strerror = _fn("el_strerror", _cp, _st)
_free = _fn("el_free", None, _vp)

_table_create = _fn("el_table_create", _st, _sz, _PP)
_table_destroy = _fn("el_table_destroy", None, _vp)
_table_nrows = _fn("el_table_nrows", _sz, _vp)
_table_ncols = _fn("el_table_ncols", _sz, _vp)
_table_col_name = _fn("el_table_col_name", _cp, _vp, _sz)
_table_col_index = _fn("el_table_col_index", _c.c_long, _vp, _cp)
_table_col_values = _fn("el_table_col_values", _c.POINTER(_dbl), _vp, _sz)
_table_cell = _fn("el_table_cell", _cp, _vp, _sz, _sz)
_table_source = _fn("el_table_source", _cp, _vp)
_table_set_numeric = _fn("el_table_set_numeric", _st, _vp, _cp, _c.POINTER(_dbl), _sz, _E)
_table_set_text = _fn("el_table_set_text", _st, _vp, _cp, _c.POINTER(_cp), _sz, _E)
_table_to_csv = _fn("el_table_to_csv", _vp, _vp)

_reader_create = _fn("el_reader_create", _st, _PP)
_reader_destroy = _fn("el_reader_destroy", None, _vp)
_reader_set_schema = _fn("el_reader_set_schema", _st, _vp, _cp, _E)
_reader_add_map = _fn("el_reader_add_map", _st, _vp, _cp, _cp, _E)
_reader_set_const = _fn("el_reader_set_const", _st, _vp, _cp, _dbl, _E)
_reader_add_where = _fn("el_reader_add_where", _st, _vp, _cp, _E)
_reader_require = _fn("el_reader_require", _st, _vp, _cp, _E)
_reader_set_drop_invalid = _fn("el_reader_set_drop_invalid", None, _vp, _c.c_int)
_reader_read = _fn("el_reader_read", _st, _vp, _cp, _PP, _E)
_reader_read_table = _fn("el_reader_read_table", _st, _vp, _vp, _cp, _PP, _E)
_reader_dropped = _fn("el_reader_dropped", _sz, _vp)
_reader_filtered = _fn("el_reader_filtered", _sz, _vp)
_reader_drop_reason = _fn("el_reader_drop_reason", _cp, _vp, _sz)
_reader_schema_note = _fn("el_reader_schema_note", _cp, _vp)

_template_names = _fn("el_template_names", _c.POINTER(_cp))
_method_names = _fn("el_method_names", _c.POINTER(_cp))
_model_from_template = _fn("el_model_from_template", _st, _cp, _PP, _E)
_model_from_formula = _fn("el_model_from_formula", _st, _cp, _c.POINTER(_cp), _sz, _PP, _E)
_model_destroy = _fn("el_model_destroy", None, _vp)
_model_formula = _fn("el_model_formula", _cp, _vp)
_model_template = _fn("el_model_template", _cp, _vp)
_model_target = _fn("el_model_target", _cp, _vp)
_model_set_target = _fn("el_model_set_target", _st, _vp, _cp)
_model_method = _fn("el_model_method", _cp, _vp)
_model_nparams = _fn("el_model_nparams", _sz, _vp)
_model_param_name = _fn("el_model_param_name", _cp, _vp, _sz)
_model_param_meaning = _fn("el_model_param_meaning", _cp, _vp, _sz)
_model_param_value = _fn("el_model_param_value", _dbl, _vp, _sz)
_model_param_bounds = _fn("el_model_param_bounds", None, _vp, _sz, _c.POINTER(_dbl),
                          _c.POINTER(_dbl))
_model_param_at_bound = _fn("el_model_param_at_bound", _c.c_int, _vp, _sz)
_model_nvars = _fn("el_model_nvars", _sz, _vp)
_model_var_name = _fn("el_model_var_name", _cp, _vp, _sz)
_model_nterms = _fn("el_model_nterms", _sz, _vp)
_model_term_label = _fn("el_model_term_label", _cp, _vp, _sz)
_model_predict = _fn("el_model_predict", _st, _vp, _vp, _c.POINTER(_dbl), _E)
_model_predict_terms = _fn("el_model_predict_terms", _st, _vp, _vp, _c.POINTER(_dbl), _E)
_model_note = _fn("el_model_note", _cp, _vp, _cp)
_model_set_note = _fn("el_model_set_note", _st, _vp, _cp, _cp)
_model_fit_info = _fn("el_model_fit_info", None, _vp, _c.POINTER(_FitInfo))
_model_save = _fn("el_model_save", _st, _vp, _cp, _E)
_model_to_json = _fn("el_model_to_json", _vp, _vp)
_model_load_entry = _fn("el_model_load_entry", _st, _cp, _c.c_long, _PP, _E)
_model_from_json = _fn("el_model_from_json", _st, _cp, _PP, _E)
_model_importance = _fn("el_model_importance", _st, _vp, _c.POINTER(_cp), _c.POINTER(_dbl),
                        _sz, _c.POINTER(_sz))

_fit_create = _fn("el_fit_create", _st, _PP)
_fit_destroy = _fn("el_fit_destroy", None, _vp)
_fit_set_seed = _fn("el_fit_set_seed", _st, _vp, _c.c_uint64)
_fit_set_starts = _fn("el_fit_set_starts", _st, _vp, _sz)
_fit_set_loss = _fn("el_fit_set_loss", _st, _vp, _c.c_int)
_fit_run = _fn("el_fit_run", _st, _vp, _vp, _vp, _c.POINTER(_c.c_int), _E)
_fit_method = _fn("el_fit_method", _st, _cp, _vp, _cp, _c.c_uint64, _PP, _E)

_space_create = _fn("el_space_create", _st, _PP)
_space_destroy = _fn("el_space_destroy", None, _vp)
_space_set_values = _fn("el_space_set_values", _st, _vp, _cp, _c.POINTER(_dbl), _sz, _E)
_space_set_spec = _fn("el_space_set_spec", _st, _vp, _cp, _cp, _E)
_space_add_constraint = _fn("el_space_add_constraint", _st, _vp, _cp, _E)
_select = _fn("el_select", _st, _vp, _vp, _vp, _PP, _E)
_selection_destroy = _fn("el_selection_destroy", None, _vp)
_selection_table = _fn("el_selection_table", _vp, _vp)
_selection_latency_best = _fn("el_selection_latency_best", _sz, _vp)
_selection_saving_pct = _fn("el_selection_saving_pct", _dbl, _vp)

_sr_create = _fn("el_sr_create", _st, _PP)
_sr_destroy = _fn("el_sr_destroy", None, _vp)
_sr_set_target = _fn("el_sr_set_target", _st, _vp, _cp)
_sr_set_vars = _fn("el_sr_set_vars", _st, _vp, _c.POINTER(_cp), _sz)
_sr_set_ops = _fn("el_sr_set_ops", _st, _vp, _cp, _vp)
_sr_set_max_evals = _fn("el_sr_set_max_evals", _st, _vp, _sz, _vp)
_sr_set_time_limit = _fn("el_sr_set_time_limit", _st, _vp, _dbl)
_sr_set_seed = _fn("el_sr_set_seed", _st, _vp, _c.c_uint64)
_sr_set_threads = _fn("el_sr_set_threads", _st, _vp, _sz)
_sr_set_islands = _fn("el_sr_set_islands", _st, _vp, _sz)
_sr_set_population = _fn("el_sr_set_population", _st, _vp, _sz)
_sr_set_max_size = _fn("el_sr_set_max_size", _st, _vp, _sz)
_sr_set_loss = _fn("el_sr_set_loss", _st, _vp, _c.c_int)
_sr_run = _fn("el_sr_run", _st, _vp, _vp, _vp)
_sr_stats = _fn("el_sr_stats", None, _vp, _c.POINTER(_SrStats))
_sr_front_size = _fn("el_sr_front_size", _sz, _vp)
_sr_front_pick = _fn("el_sr_front_pick", _sz, _vp)
_sr_front_entry = _fn("el_sr_front_entry", _st, _vp, _sz, _c.POINTER(_SrEntry))
_sr_front_formula = _fn("el_sr_front_formula", _vp, _vp, _sz, _c.c_int, _c.c_int)
_sr_front_model = _fn("el_sr_front_model", _st, _vp, _sz, _PP)
_sr_save = _fn("el_sr_save", _st, _vp, _cp, _E)
_sr_to_json = _fn("el_sr_to_json", _vp, _vp)

_units_compute = _fn("el_units_compute", _st, _c.POINTER(_UnitsIn), _c.POINTER(_Units), _E,
                     optional=True)

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class Error(Exception):
    """An error reported by libenergylens.

    str(e) is the library's message ("data.csv:14: column 'energy_j' (3):
    ..."); status is the el_status code, file/row/column locate the input
    where the library knows them (row is the 1-based line, header = 1)."""

    def __init__(self, message, status=-1, file="", row=0, column=0):
        super().__init__(message)
        self.message = message
        self.status = status
        self.file = file
        self.row = row
        self.column = column


class InvalidArgumentError(Error, ValueError):
    pass


class NoMemoryError(Error, MemoryError):
    pass


class FileError(Error, OSError):
    def __str__(self):
        return self.message


class ParseError(Error, ValueError):
    pass


class NumericError(Error, ArithmeticError):
    pass


class UnavailableError(Error):
    pass


class LimitError(Error, ValueError):
    pass


class DataError(Error, ValueError):
    pass


class MissingError(Error, LookupError):
    pass


_ERRORS = {-1: InvalidArgumentError, -2: NoMemoryError, -3: FileError, -4: ParseError,
           -5: NumericError, -6: UnavailableError, -7: LimitError, -8: DataError,
           -9: MissingError}


def _s(b):
    return b.decode("utf-8", "replace") if b is not None else None


def _b(s):
    return s.encode("utf-8") if isinstance(s, str) else s


def _raise(status, message=None, err=None):
    cls = _ERRORS.get(status, Error)
    if err is not None and err.text:
        raise cls(_s(err.text), status, _s(err.file), err.row, err.column)
    raise cls(message or _s(_strerror(status)), status)


def _check(status, err=None, message=None):
    if status != 0:
        _raise(status, message, err)


def _take_string(ptr):
    """Copies a char * the library handed over and frees it."""
    if not ptr:
        raise NoMemoryError("energylens: out of memory", -2)
    try:
        return _c.string_at(ptr).decode("utf-8")
    finally:
        _free(ptr)


def _finite_or_none(x):
    return x if isinstance(x, float) and math.isfinite(x) else None


# ---------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------


class _Handle:
    _destroy = None

    def __init__(self, ptr):
        self._ptr = ptr

    @property
    def _h(self):
        if not self._ptr:
            raise ValueError("energylens: %s is closed" % type(self).__name__)
        return self._ptr

    def close(self):
        """Frees the library object now (idempotent)."""
        p, self._ptr = getattr(self, "_ptr", None), None
        if p:
            type(self)._destroy(p)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class Table(_Handle):
    """Measurements: named columns of numbers or text (an el_table)."""

    _destroy = staticmethod(_table_destroy)

    def __init__(self, ptr, dropped=0, filtered=0, drop_reasons=(), note=""):
        super().__init__(ptr)
        self.dropped = dropped  # rows dropped as invalid (drop_invalid=True)
        self.filtered = filtered  # rows removed by the where filters
        self.drop_reasons = list(drop_reasons)
        self.note = note  # what the schema approximates, "" if nothing

    def __len__(self):
        return _table_nrows(self._h)

    @property
    def nrows(self):
        return _table_nrows(self._h)

    @property
    def columns(self):
        h = self._h
        return [_s(_table_col_name(h, j)) for j in range(_table_ncols(h))]

    @property
    def source(self):
        return _s(_table_source(self._h))

    def column(self, name):
        """A column as a list of floats (numeric) or of strings (text)."""
        h = self._h
        j = _table_col_index(h, _b(name))
        if j < 0:
            raise MissingError("no column '%s'" % name, -9)
        n = _table_nrows(h)
        v = _table_col_values(h, j)
        if v:
            return v[:n]
        return [_s(_table_cell(h, i, j)) for i in range(n)]

    def __getitem__(self, name):
        return self.column(name)

    def to_dict(self):
        """{column: list} of every column."""
        return {name: self.column(name) for name in self.columns}

    def to_csv(self):
        return _take_string(_table_to_csv(self._h))


def _new_reader(schema, maps, where, consts, require, drop_invalid):
    r = _vp()
    _check(_reader_create(_c.byref(r)))
    try:
        err = _ErrorStruct()
        if schema:
            _check(_reader_set_schema(r, _b(schema), _c.byref(err)), err)
        items = maps.items() if isinstance(maps, dict) else (
            m.split("=", 1) for m in ([maps] if isinstance(maps, str) else maps or []))
        for name, source in items:
            _check(_reader_add_map(r, _b(name), _b(source), _c.byref(err)), err)
        for w in [where] if isinstance(where, str) else where or []:
            _check(_reader_add_where(r, _b(w), _c.byref(err)), err)
        for name, value in (consts or {}).items():
            _check(_reader_set_const(r, _b(name), float(value), _c.byref(err)), err)
        for name in [require] if isinstance(require, str) else require or []:
            _check(_reader_require(r, _b(name), _c.byref(err)), err)
        _reader_set_drop_invalid(r, 1 if drop_invalid else 0)
        return r
    except BaseException:
        _reader_destroy(r)
        raise


def _read_with(r, run):
    out = _vp()
    err = _ErrorStruct()
    try:
        _check(run(out, err), err)
        reasons = []
        while True:
            why = _reader_drop_reason(r, len(reasons))
            if why is None:
                break
            reasons.append(_s(why))
        return Table(out.value, _reader_dropped(r), _reader_filtered(r), reasons,
                     _s(_reader_schema_note(r)) or "")
    finally:
        _reader_destroy(r)


def read_csv(path, schema=None, maps=None, where=None, consts=None, require=None,
             drop_invalid=False):
    """Reads a measurement file (CSV with a header).

    schema: "canonical" (default), "mlenergy", "tokenpowerbench", "wilkins";
    maps: {"tp": "vllm_tensor_parallel_size"} or ["tp=...", ...] (a column
    or an expression over numeric columns); where: "model=X" or a list
    (also != < <= > >=); consts: {"s_in": 1}; require: columns that must be
    present and valid; drop_invalid: drop invalid rows (counted in
    .dropped, .drop_reasons) instead of raising DataError."""
    r = _new_reader(schema, maps, where, consts, require, drop_invalid)
    return _read_with(r, lambda out, err: _reader_read(r, _b(os.fspath(path)), _c.byref(out),
                                                       _c.byref(err)))


def _columns_of(data):
    """(name, values) pairs of a dict of sequences / numpy arrays or a DataFrame."""
    if hasattr(data, "columns") and hasattr(data, "__getitem__") and not isinstance(data, dict):
        return [(str(name), data[name].to_numpy() if hasattr(data[name], "to_numpy")
                 else data[name]) for name in data.columns]
    if isinstance(data, dict):
        return [(str(k), v) for k, v in data.items()]
    raise InvalidArgumentError("columns: expected a dict of sequences or a DataFrame, got %s"
                               % type(data).__name__, -1)


def _is_number(x):
    return isinstance(x, (int, float)) or (
        hasattr(x, "dtype") and getattr(x.dtype, "kind", "") in "iufb")


def _set_column(t, name, values, n, err):
    kind = getattr(getattr(values, "dtype", None), "kind", None)
    if kind in ("i", "u", "f", "b"):  # numpy: pass the buffer itself when finite
        import numpy as np

        arr = np.ascontiguousarray(values, dtype=np.float64)
        if np.isfinite(arr).all():
            ptr = arr.ctypes.data_as(_c.POINTER(_dbl))
            return _table_set_numeric(t, _b(name), ptr, n, _c.byref(err))
        values = arr.tolist()
    else:
        values = list(values)
    if all(_is_number(v) and not isinstance(v, bool) or isinstance(v, bool) for v in values) \
            and all(math.isfinite(float(v)) for v in values):
        buf = (_dbl * n)(*[float(v) for v in values])
        return _table_set_numeric(t, _b(name), buf, n, _c.byref(err))
    # Text, or numbers with NaN/inf/None: the reader's checks name the cell.
    cells = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            cells.append(b"" if v is None else b"nan")
        else:
            cells.append(_b(v if isinstance(v, str) else repr(float(v)) if _is_number(v)
                            else str(v)))
    arr = (_cp * n)(*cells)
    return _table_set_text(t, _b(name), arr, n, _c.byref(err))


def table(data, name=None, schema=None, maps=None, where=None, consts=None, require=None,
          drop_invalid=False):
    """Builds measurements from columns: a dict of lists / numpy arrays, or
    a pandas DataFrame, then applies the same schema, maps, filters and
    checks as read_csv (el_reader_read_table). Errors name `name` (default
    "<table>"), the 1-based row and the column: "<table>:3: column
    'energy_j' (2): -1 <= 0"."""
    cols = _columns_of(data)
    if not cols:
        raise ParseError("%s: no columns" % (name or "<table>"), -4)
    n = len(cols[0][1])
    for cname, values in cols:
        if len(values) != n:
            raise InvalidArgumentError("column '%s' has %d values, the first column %d"
                                       % (cname, len(values), n), -1)
    raw = _vp()
    _check(_table_create(n, _c.byref(raw)))
    try:
        err = _ErrorStruct()
        for cname, values in cols:
            _check(_set_column(raw, cname, values, n, err), err)
        r = _new_reader(schema, maps, where, consts, require, drop_invalid)
        return _read_with(r, lambda out, e: _reader_read_table(
            r, raw, _b(name) if name else None, _c.byref(out), _c.byref(e)))
    finally:
        _table_destroy(raw)


def _as_table(data):
    if isinstance(data, Table):
        return data, False
    return table(data), True


class Model(_Handle):
    """A fitted (or unfitted) model: a formula with named parameters, or a
    baseline (linreg, rf, gbdt, maveriq) behind the same calls."""

    _destroy = staticmethod(_model_destroy)

    @classmethod
    def load(cls, path, entry=None):
        """Loads a model file, or entry k of a `discover` front file (None: its pick)."""
        out, err = _vp(), _ErrorStruct()
        _check(_model_load_entry(_b(os.fspath(path)), -1 if entry is None else int(entry),
                                 _c.byref(out), _c.byref(err)), err)
        return cls(out.value)

    @classmethod
    def from_json(cls, text):
        out, err = _vp(), _ErrorStruct()
        _check(_model_from_json(_b(text), _c.byref(out), _c.byref(err)), err)
        return cls(out.value)

    @classmethod
    def from_template(cls, name="energylens12"):
        out, err = _vp(), _ErrorStruct()
        _check(_model_from_template(_b(name), _c.byref(out), _c.byref(err)), err)
        return cls(out.value)

    @classmethod
    def from_formula(cls, formula, variables):
        names = (_cp * len(variables))(*[_b(v) for v in variables])
        out, err = _vp(), _ErrorStruct()
        _check(_model_from_formula(_b(formula), names, len(variables), _c.byref(out),
                                   _c.byref(err)), err)
        return cls(out.value)

    @property
    def formula(self):
        return _s(_model_formula(self._h))

    @property
    def target(self):
        return _s(_model_target(self._h))

    @property
    def method(self):
        return _s(_model_method(self._h))

    @property
    def template(self):
        return _s(_model_template(self._h))

    @property
    def variables(self):
        h = self._h
        return [_s(_model_var_name(h, k)) for k in range(_model_nvars(h))]

    @property
    def terms(self):
        h = self._h
        return [_s(_model_term_label(h, k)) for k in range(_model_nterms(h))]

    @property
    def params(self):
        """{name: value} of the parameters."""
        h = self._h
        return {_s(_model_param_name(h, k)): _model_param_value(h, k)
                for k in range(_model_nparams(h))}

    def parameters(self):
        """Every parameter as a dict: name, value, lo, hi, meaning, at_bound."""
        h = self._h
        out = []
        for k in range(_model_nparams(h)):
            lo, hi = _dbl(), _dbl()
            _model_param_bounds(h, k, _c.byref(lo), _c.byref(hi))
            out.append({"name": _s(_model_param_name(h, k)), "value": _model_param_value(h, k),
                        "lo": lo.value, "hi": hi.value,
                        "meaning": _s(_model_param_meaning(h, k)) or "",
                        "at_bound": bool(_model_param_at_bound(h, k))})
        return out

    @property
    def fit_info(self):
        """What the fit did: fitted, method, loss_kind, stop, loss, mape, r2,
        rmse, nrows, nstarts, nevals, seed, data_checksum, seconds."""
        fi = _FitInfo()
        _model_fit_info(self._h, _c.byref(fi))
        d = {}
        for name, _t in _FitInfo._fields_:
            if name == "_pad":
                continue
            v = getattr(fi, name)
            d[name] = _s(v) if isinstance(v, bytes) else v
        d["fitted"] = bool(d["fitted"])
        return d

    def note(self, key):
        return _s(_model_note(self._h, _b(key)))

    def predict(self, data):
        """Predictions of the target for every row (a list of floats).
        data: a Table, or columns as table() takes them."""
        t, own = _as_table(data)
        try:
            n = len(t)
            out, err = (_dbl * n)(), _ErrorStruct()
            _check(_model_predict(self._h, t._h, out, _c.byref(err)), err)
            return out[:]
        finally:
            if own:
                t.close()

    def predict_terms(self, data):
        """Per-row {term label: value} (terms with one label are summed)."""
        t, own = _as_table(data)
        try:
            n, nt = len(t), _model_nterms(self._h)
            out, err = (_dbl * (n * nt))(), _ErrorStruct()
            _check(_model_predict_terms(self._h, t._h, out, _c.byref(err)), err)
            labels = self.terms
            rows = []
            for i in range(n):
                row = {}
                for k, lab in enumerate(labels):
                    row[lab] = row.get(lab, 0.0) + out[i * nt + k]
                rows.append(row)
            return rows
        finally:
            if own:
                t.close()

    def importance(self):
        """Feature importance of a tree model ({feature: share}); None for formulas."""
        names, share, n = (_cp * 64)(), (_dbl * 64)(), _sz()
        if _model_importance(self._h, names, share, 64, _c.byref(n)) != 0:
            return None
        return {_s(names[k]): share[k] for k in range(n.value)}

    def save(self, path):
        err = _ErrorStruct()
        _check(_model_save(self._h, _b(os.fspath(path)), _c.byref(err)), err)

    def to_json(self):
        return _take_string(_model_to_json(self._h))

    def to_dict(self):
        """The model file as a dict."""
        return json.loads(self.to_json())

    def explain(self, at=None, carbon_intensity=None, price=None, latency=None):
        """What the model says at one configuration, as `energylens explain`
        prints it: the formula, the parameters with their meaning, the value
        of each term and its share, and the effect of doubling TP and PP.
        at: {variable: value} (default: the training data's median
        configuration recorded in the model). With units available in the
        library, "units" holds energy per output token, and with a latency
        model (latency=Model) throughput and GPU-hours too."""
        h = self._h
        out = {"target": self.target, "formula": self.formula, "method": self.method,
               "parameters": self.parameters(), "importance": self.importance()}
        if at is None:
            ref = self.note("reference_point")
            if ref:
                at = {k: float(v) for k, v in (kv.split("=", 1) for kv in ref.split(","))}
        if at is None:
            return out
        point = {k: float(v) for k, v in at.items()}
        names = self.variables
        for v in names:
            if v not in point:
                raise MissingError("the configuration lacks '%s'" % v, -9)
        rows = {name: [point[name]] * 3 for name in names}
        if "tp" in rows:
            rows["tp"][1] *= 2
        if "pp" in rows:
            rows["pp"][2] *= 2
        cols = {name: rows[name] for name in names} if names else {"_": [0.0] * 3}
        raw = _table_raw(cols)
        try:
            split = self.predict_terms(raw)
        finally:
            raw.close()
        totals = [sum(r.values()) for r in split]
        out["at"] = point
        out["value"] = totals[0]
        out["terms"] = {lab: {"value": v, "share": v / totals[0] if totals[0] else None}
                        for lab, v in split[0].items()}
        for axis, row in (("tp", 1), ("pp", 2)):
            if axis in names:
                out["double_" + axis] = {
                    "value": totals[row],
                    "change_pct": 100.0 * (totals[row] - totals[0]) / totals[0],
                    "terms": {lab: split[row][lab] - split[0][lab] for lab in split[0]}}
        if _units_compute is not None and self.target == "energy_j":
            lat = None
            if latency is not None:
                lat = latency.predict(_table_raw({k: [point[k]] for k in latency.variables}))[0]
            out["units"] = units(totals[0], s_out=point.get("s_out"), latency_s=lat,
                                 batch=point.get("batch"),
                                 gpus=point.get("tp", 1) * point.get("pp", 1),
                                 carbon_intensity=carbon_intensity, price=price)
        return out


def _table_raw(columns):
    """A Table from {name: list of floats} without the reader's checks
    (configurations to predict at; every value must be finite)."""
    n = len(next(iter(columns.values()))) if columns else 0
    raw = _vp()
    _check(_table_create(n, _c.byref(raw)))
    t = Table(raw.value)
    err = _ErrorStruct()
    for name, values in columns.items():
        buf = (_dbl * n)(*[float(v) for v in values])
        _check(_table_set_numeric(raw, _b(name), buf, n, _c.byref(err)), err)
    return t


_LOSSES = {"rel2": 0, "log2": 1, "abs2": 2, "nmse": 2}


def fit(data, method="energylens", target="energy_j", seed=0, template=None, formula=None,
        variables=None, starts=None, loss=None):
    """Fits a model to measurements and returns it.

    method: one of methods() ("energylens" = EnergyLens-12, "linreg", "rf",
    "gbdt", "maveriq", "maveriq-meanpower"). template / formula (with
    `variables`, default the canonical columns the data has) fit another
    closed form by the same L-BFGS as EnergyLens-12; starts and loss
    ("rel2", "log2", "abs2") tune that fit."""
    t, own = _as_table(data)
    try:
        m = _fit(t, method, target, seed, template, formula, variables, starts, loss)
        _median_note(m, t)
        return m
    finally:
        if own:
            t.close()


def _median_note(m, t):
    """Records the training data's median configuration as the model's
    "reference_point" note, explain's default point (as `energylens fit`)."""
    parts = []
    for name in m.variables:
        j = _table_col_index(t._h, _b(name))
        v = _table_col_values(t._h, j) if j >= 0 else None
        if not v:
            continue
        col = sorted(v[:len(t)])
        parts.append("%s=%.6g" % (name, col[(len(col) - 1) // 2]))
    _model_set_note(m._h, b"reference_point", _b(",".join(parts)))


def _fit(t, method, target, seed, template, formula, variables, starts, loss):
    if method != "energylens" and (template or formula or starts or loss):
        raise InvalidArgumentError("template/formula/starts/loss apply to method "
                                   "'energylens' only", -1)
    # EnergyLens-12 on energy through fit-by-method; another target or
    # formula through the template path (latency_s: the latency template).
    if method != "energylens" or (target == "energy_j" and template is None and
                                  formula is None and starts is None and loss is None):
        out, err = _vp(), _ErrorStruct()
        _check(_fit_method(_b(method), t._h, _b(target), seed, _c.byref(out),
                           _c.byref(err)), err)
        return Model(out.value)
    if formula is not None:
        if variables is None:
            variables = [c for c in t.columns if c != target and
                         _table_col_values(t._h, _table_col_index(t._h, _b(c)))]
        m = Model.from_formula(formula, variables)
    else:
        m = Model.from_template(template or (
            "latency" if target == "latency_s" else "energylens12"))
    try:
        _check(_model_set_target(m._h, _b(target)))
        f = _vp()
        _check(_fit_create(_c.byref(f)))
        try:
            _fit_set_seed(f, seed)
            if starts is not None:
                _check(_fit_set_starts(f, starts))
            if loss is not None:
                _check(_fit_set_loss(f, _LOSSES[loss]))
            err = _ErrorStruct()
            _check(_fit_run(f, m._h, t._h, None, _c.byref(err)), err)
        finally:
            _fit_destroy(f)
        return m
    except BaseException:
        m.close()
        raise


def _space(space, constraints, gpus):
    s = _vp()
    _check(_space_create(_c.byref(s)))
    try:
        err = _ErrorStruct()
        for name, v in space.items():
            if isinstance(v, str):
                _check(_space_set_spec(s, _b(name), _b(v), _c.byref(err)), err)
            else:
                vals = list(v) if hasattr(v, "__len__") else [v]
                buf = (_dbl * len(vals))(*[float(x) for x in vals])
                _check(_space_set_values(s, _b(name), buf, len(vals), _c.byref(err)), err)
        cons = [constraints] if isinstance(constraints, str) else list(constraints or [])
        if gpus is not None:
            cons.append("tp*pp <= %s" % gpus)
        for c in cons:
            _check(_space_add_constraint(s, _b(c), _c.byref(err)), err)
        return s
    except BaseException:
        _space_destroy(s)
        raise


def select(energy, latency=None, space=None, constraints=None, gpus=None, top=None,
           carbon_intensity=None, price=None):
    """Ranks a configuration space by predicted energy.

    space: {axis: values}, each a list, a number or a spec string ("1,2,4",
    "1..512", "1..512:x2", "64..512:64"); constraints: "tp*pp <= 8" or a
    list; gpus: adds tp*pp <= gpus. Returns {"rows": [dict per configuration,
    ascending energy, with energy_j_pred (and latency_s_pred, pareto with a
    latency model)], "best": rows[0], "latency_best": the latency-optimal
    row or None, "saving_pct": energy saved by the pick against it, "n":
    configurations ranked}. top limits "rows" (default: all). With the
    library's units, each row carries the operator units (see units())."""
    s = _space(space or {}, constraints, gpus)
    sel = _vp()
    try:
        err = _ErrorStruct()
        _check(_select(energy._h, latency._h if latency is not None else None, s,
                       _c.byref(sel), _c.byref(err)), err)
        tbl = _selection_table(sel)
        n = _table_nrows(tbl)
        names = [_s(_table_col_name(tbl, j)) for j in range(_table_ncols(tbl))]
        cols = []
        for j in range(len(names)):
            v = _table_col_values(tbl, j)
            cols.append(v[:n] if v else [_s(_table_cell(tbl, i, j)) for i in range(n)])

        def row(i):
            r = {names[j]: cols[j][i] for j in range(len(names))}
            if "pareto" in r:
                r["pareto"] = bool(r["pareto"])
            if _units_compute is not None and "energy_j_pred" in r:
                r["units"] = units(r["energy_j_pred"], s_out=r.get("s_out"),
                                   latency_s=r.get("latency_s_pred"), batch=r.get("batch"),
                                   gpus=r.get("tp", 1) * r.get("pp", 1),
                                   carbon_intensity=carbon_intensity, price=price)
            return r

        k = n if top is None else min(n, int(top))
        rows = [row(i) for i in range(k)]
        lb = row(_selection_latency_best(sel)) if latency is not None and n else None
        return {"rows": rows, "best": rows[0] if rows else (row(0) if n else None),
                "latency_best": lb, "saving_pct": _selection_saving_pct(sel), "n": n}
    finally:
        _selection_destroy(sel)
        _space_destroy(s)


def units(energy_j, s_out=None, latency_s=None, batch=None, gpus=1, carbon_intensity=None,
          price=None):
    """Operator units of one configuration (the library's el_units_compute):
    {"j_per_request", "j_per_token", "tokens_per_s", "gpu_hours_per_mreq",
    "kwh_per_mreq", "co2e_g_per_mreq", "cost_per_mreq"}; a unit whose inputs
    are missing is None. Formulas: README, "Units"."""
    if _units_compute is None:
        raise UnavailableError("this libenergylens has no el_units_compute", -6)
    nan = float("nan")

    def f(x):
        return nan if x is None else float(x)

    uin = _UnitsIn(f(energy_j), f(s_out), f(latency_s), f(batch), f(gpus),
                   f(carbon_intensity), f(price))
    u, err = _Units(), _ErrorStruct()
    _check(_units_compute(_c.byref(uin), _c.byref(u), _c.byref(err)), err)
    return {name: _finite_or_none(getattr(u, name)) for name, _t in _Units._fields_
            if name != "_pad"}


class Front(_Handle):
    """The Pareto front of a `discover` run (loss against complexity)."""

    _destroy = staticmethod(_sr_destroy)

    @property
    def pick(self):
        return _sr_front_pick(self._h)

    @property
    def entries(self):
        """Each entry: complexity, loss, score, r2, mape, rmse, nconst,
        formula (fitted constants, 4 significant digits), expression (with
        parameters c0, c1, ...)."""
        h = self._h
        out = []
        for k in range(_sr_front_size(h)):
            e = _SrEntry()
            _check(_sr_front_entry(h, k, _c.byref(e)))
            out.append({"complexity": e.complexity, "loss": e.loss, "score": e.score,
                        "r2": e.r2, "mape": e.mape, "rmse": e.rmse, "nconst": e.nconst,
                        "formula": _take_string(_sr_front_formula(h, k, 0, 4)),
                        "expression": _take_string(_sr_front_formula(h, k, 0, -1))})
        return out

    @property
    def stats(self):
        st = _SrStats()
        _sr_stats(self._h, _c.byref(st))
        return {"evals": st.evals, "epochs": st.epochs, "seconds": st.seconds,
                "cancelled": bool(st.cancelled), "timed_out": bool(st.timed_out),
                "nrows": st.nrows}

    def model(self, k=None):
        """Entry k (default: the pick) as a Model."""
        out = _vp()
        _check(_sr_front_model(self._h, self.pick if k is None else k, _c.byref(out)))
        return Model(out.value)

    def save(self, path):
        err = _ErrorStruct()
        _check(_sr_save(self._h, _b(os.fspath(path)), _c.byref(err)), err)

    def to_json(self):
        return _take_string(_sr_to_json(self._h))


def discover(data, target="energy_j", variables=None, ops=None, max_evals=None,
             time_limit=None, seed=0, threads=1, islands=None, population=None,
             max_size=None, loss=None):
    """Symbolic regression: a Pareto front of formulas for `target`.
    loss: "nmse" (default, 1 - R^2) or "rel2". Returns a Front."""
    t, own = _as_table(data)
    s = _vp()
    _check(_sr_create(_c.byref(s)))
    front = Front(s.value)
    try:
        h = front._h
        err = _ErrorStruct()
        _check(_sr_set_target(h, _b(target)))
        if variables is not None:
            arr = (_cp * len(variables))(*[_b(v) for v in variables])
            _check(_sr_set_vars(h, arr, len(variables)))
        if ops is not None:
            _check(_sr_set_ops(h, _b(ops), _c.byref(err)), err)
        if max_evals is not None:
            _check(_sr_set_max_evals(h, max_evals, _c.byref(err)), err)
        if time_limit is not None:
            _check(_sr_set_time_limit(h, time_limit))
        _check(_sr_set_seed(h, seed))
        _check(_sr_set_threads(h, threads))
        if islands is not None:
            _check(_sr_set_islands(h, islands))
        if population is not None:
            _check(_sr_set_population(h, population))
        if max_size is not None:
            _check(_sr_set_max_size(h, max_size))
        if loss is not None:
            _check(_sr_set_loss(h, _LOSSES[loss]))
        _check(_sr_run(h, t._h, _c.byref(err)), err)
        return front
    except BaseException:
        front.close()
        raise
    finally:
        if own:
            t.close()


def _names(fn):
    arr = fn()
    out, k = [], 0
    while arr[k] is not None:
        out.append(_s(arr[k]))
        k += 1
    return out


def methods():
    """The fitting methods fit() takes."""
    return _names(_method_names)


def templates():
    """The built-in formula templates."""
    return _names(_template_names)


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _s(_version())


def library_path():
    """The shared library this module loaded."""
    return _path


if _version_number() // 10000 != ABI_MAJOR:
    raise ImportError("energylens: %s is version %s; this binding needs major version %d"
                      % (_path, version(), ABI_MAJOR))
