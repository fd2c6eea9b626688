"""Arrivals forecast per interval from counts per local day and slot (pure: numpy, scipy, statsmodels).

The classical top-down method of call-centre planning, its two parts fitted by statsmodels:

- **day totals**: a negative-binomial regression (`statsmodels.discrete.NegativeBinomial`, NB2) on
  calendar features: day of the week, French public holiday, bridge day, first weekday after them, a
  linear trend (from 12 weeks of history); then an AR(1) (`SARIMAX(1, 0, 0)`) on the log ratio of each
  open day's total to the regression's: a regression with autoregressive errors. Its correction fades
  with the horizon (φ^h), and it is applied to the first `AR_DAYS` open days ahead only (where published
  comparisons find ARIMA-type models best, and where it helps in bench/bench_forecast.py); later days
  are the calendar regression alone, a historical average with its calendar (hard to beat there);
- **intraday shape**: each weekday's share of the day per slot, from its last normal days (the
  fixed-proportions method). A slot where no call ever came has no share: nothing assumes opening
  hours, the shape comes from the data.

A day type the history shows closed (every observed public holiday without a call) is forecast at
zero; one it never shows (no holiday in a month of history) is taken as a Sunday. Prediction intervals
are negative-binomial quantiles whose dispersion adds up the day's (AR forecast variance, or the
residuals' when no AR), the regression's parameter uncertainty and the slots' own overdispersion
measured around the shape.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from allo.forecast import calendar as cal

FIT_WEEKS = 52  # history the day regression reads (a year: every holiday once)
SHAPE_DAYS = 8  # last normal days of a weekday giving its intraday shape
TREND_MIN_DAYS = 84  # a trend is fitted from 12 weeks of history (before, it would chase noise)
AR_MIN_DAYS = 20  # open days needed to fit the AR(1) of the day ratios
# open days ahead that take the AR's correction: bench/bench_forecast.py, the scenario's last 26 weeks per
# hour, WAPE with / without it: 9.3 / 10.0 % the first day, 8.8 / 9.2 % the second, 10.6 / 10.8 % the
# third, the same from the fourth (9.9 / 9.9 %)
AR_DAYS = 3


class ForecastError(ValueError):
    """Bad input; the message is French, for the user."""


@dataclass
class Fitted:
    first: dt.date  # first day of the history read
    last: dt.date  # last day of the history
    slots: int  # per day
    features: list[str]
    params: np.ndarray  # regression coefficients (features order)
    cov: np.ndarray  # their covariance
    closed_kinds: set[str]  # day kinds the history shows closed (holiday, bridge)
    closed_dows: set[int]  # weekdays without a call in the history read
    unseen_holiday: bool  # no public holiday in the history: taken as a Sunday
    shapes: np.ndarray  # (7, slots) shares of the day per weekday
    slot_alpha: float  # slots' overdispersion around the shape (NB2 alpha)
    resid_var: float  # variance of the log day ratios (the day's uncertainty without AR)
    ar_forecast: list[tuple[float, float]] = field(default_factory=list)  # per open day ahead: (mean, var)
    ar_phi: float | None = None
    trend_per_year: float | None = None  # multiplicative growth per year (1.05: +5 %)


def _row(day: dt.date, features: list[str], end: dt.date, unseen_holiday: bool) -> np.ndarray:
    k = cal.kind(day)
    dow = 6 if (k == cal.HOLIDAY and unseen_holiday) else day.weekday()
    x = np.zeros(len(features))
    for i, name in enumerate(features):
        if name == "const":
            x[i] = 1.0
        elif name.startswith("dow"):
            x[i] = float(dow == int(name[3:]))
        elif name == cal.HOLIDAY:
            x[i] = float(k == cal.HOLIDAY and not unseen_holiday)
        elif name == cal.BRIDGE:
            x[i] = float(k == cal.BRIDGE)
        elif name == "after":
            x[i] = float(cal.is_day_after(day))
        elif name == "trend":
            x[i] = (day - end).days / 365.25
    return x


def fit(counts: np.ndarray, first: dt.date, *, weeks: int = FIT_WEEKS, ar: bool = True) -> Fitted:
    """Fit on `counts[d, s]`: calls arrived on day first + d in slot s of the local day."""
    import statsmodels.api as sm

    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or not counts.size or counts.sum() <= 0:
        raise ForecastError("Aucun appel dans l'historique : importez des appels (allo history import) "
                            "avant de prévoir.")
    n_days, slots = counts.shape
    last = first + dt.timedelta(days=n_days - 1)
    skip = max(0, n_days - weeks * 7)
    counts, first = counts[skip:], first + dt.timedelta(days=skip)
    n_days = len(counts)
    days = [first + dt.timedelta(days=i) for i in range(n_days)]
    totals = counts.sum(axis=1)
    kinds = [cal.kind(d) for d in days]

    closed_kinds = set()
    for k in (cal.HOLIDAY, cal.BRIDGE):
        seen = [t for t, kk in zip(totals, kinds, strict=True) if kk == k]
        if seen and max(seen) == 0:
            closed_kinds.add(k)
    normal = np.array([k == cal.NORMAL for k in kinds])
    dows = np.array([d.weekday() for d in days])
    closed_dows = {w for w in range(7) if not totals[normal & (dows == w)].sum()}
    unseen_holiday = cal.HOLIDAY not in kinds

    # the day regression: open days with calls (a day without any on an open weekday is an outage or a
    # gap in the records, not a forecastable day)
    fit_idx = [i for i in range(n_days) if totals[i] > 0 and kinds[i] not in closed_kinds]
    open_dows = sorted({days[i].weekday() if not (kinds[i] == cal.HOLIDAY and unseen_holiday) else 6
                        for i in fit_idx})
    features = ["const", *[f"dow{w}" for w in open_dows[1:]]]
    present = {kinds[i] for i in fit_idx}
    for k in (cal.HOLIDAY, cal.BRIDGE):
        if k in present and not (k == cal.HOLIDAY and unseen_holiday):
            features.append(k)
    if any(cal.is_day_after(days[i]) for i in fit_idx):
        features.append("after")
    if n_days >= TREND_MIN_DAYS:
        features.append("trend")
    X = np.array([_row(days[i], features, last, unseen_holiday) for i in fit_idx])
    y = totals[fit_idx]
    keep = [j for j in range(X.shape[1]) if features[j] == "const" or X[:, j].any()]
    features, X = [features[j] for j in keep], X[:, keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and Hessian warnings: checked below instead
        try:
            res = sm.NegativeBinomial(y, X).fit(disp=0, maxiter=200)
            params, cov = np.asarray(res.params[:-1]), np.asarray(res.cov_params())[:-1, :-1]
            if not np.all(np.isfinite(params)) or not np.all(np.isfinite(cov)):
                raise np.linalg.LinAlgError
        except (np.linalg.LinAlgError, ValueError):
            # too few days for NB's dispersion (a week of history): a Poisson GLM with its scale estimated
            res = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
            params, cov = np.asarray(res.params), np.asarray(res.cov_params())
    cov = np.where(np.isfinite(cov), cov, 0.0)
    resid = np.log(y / np.exp(X @ params))
    resid_var = float(np.var(resid)) if len(resid) > 1 else 0.05

    shapes = np.zeros((7, slots))
    normal_days = [i for i in range(n_days) if kinds[i] == cal.NORMAL and totals[i] > 0]
    overall = counts[normal_days].sum(axis=0) if normal_days else counts.sum(axis=0)
    overall = overall / overall.sum()
    used = []
    for w in range(7):
        recent = [i for i in normal_days if days[i].weekday() == w][-SHAPE_DAYS:]
        used += recent
        shapes[w] = counts[recent].sum(axis=0) / totals[recent].sum() if recent else overall
    # slots' overdispersion around day total x shape (NB2 moments), on the days that made the shapes
    mu = np.array([totals[i] * shapes[days[i].weekday()] for i in used])
    obs = counts[used]
    denom = float((mu ** 2).sum())
    slot_alpha = max(0.0, float(((obs - mu) ** 2 - mu).sum()) / denom) if denom else 0.0

    fitted = Fitted(first, last, slots, features, params, cov, closed_kinds, closed_dows, unseen_holiday, shapes,
                    slot_alpha, resid_var)
    if "trend" in features:
        fitted.trend_per_year = math.exp(params[features.index("trend")])
    if ar and len(resid) >= AR_MIN_DAYS:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = SARIMAX(resid, order=(1, 0, 0), trend="n").fit(disp=False)
        fitted.ar_phi = float(model.params[0])
        ahead = model.get_forecast(steps=AR_DAYS)
        fitted.ar_forecast = list(zip(np.asarray(ahead.predicted_mean).tolist(),
                                      np.asarray(ahead.var_pred_mean).tolist(), strict=True))
    return fitted


def is_open(fitted: Fitted, day: dt.date) -> bool:
    k = cal.kind(day)
    if k in fitted.closed_kinds:
        return False
    dow = 6 if (k == cal.HOLIDAY and fitted.unseen_holiday) else day.weekday()
    return dow not in fitted.closed_dows


@dataclass
class DayForecast:
    day: dt.date
    kind: str  # normal, holiday, bridge
    open: bool
    total: float
    mean: np.ndarray  # per slot
    low: np.ndarray
    high: np.ndarray
    ar_applied: bool = False
    total_low: float = 0.0  # the day's own interval (not the sum of the slots')
    total_high: float = 0.0


def predict(fitted: Fitted, first: dt.date, last: dt.date, level: float = 0.9) -> list[DayForecast]:
    """Expected arrivals per slot of each day first..last, with `level` prediction intervals."""
    out = []
    # the AR's steps are open days after the history's end
    step = 0
    day = fitted.last + dt.timedelta(days=1)
    steps: dict[dt.date, int] = {}
    while day <= last:
        if is_open(fitted, day):
            steps[day] = step
            step += 1
        day += dt.timedelta(days=1)
    q_low, q_high = (1 - level) / 2, 1 - (1 - level) / 2
    day = first
    while day <= last:
        k = cal.kind(day)
        zeros = np.zeros(fitted.slots)
        if not is_open(fitted, day):
            out.append(DayForecast(day, k, False, 0.0, zeros, zeros, zeros))
            day += dt.timedelta(days=1)
            continue
        x = _row(day, fitted.features, fitted.last, fitted.unseen_holiday)
        eta = float(x @ fitted.params)
        param_var = float(x @ fitted.cov @ x)
        s = steps.get(day)
        if s is not None and s < min(AR_DAYS, len(fitted.ar_forecast)):
            r_mean, r_var = fitted.ar_forecast[s]
            applied = True
        else:
            r_mean, r_var, applied = 0.0, fitted.resid_var, False
        total = math.exp(eta + r_mean)
        dow = 6 if (k == cal.HOLIDAY and fitted.unseen_holiday) else day.weekday()
        mean = total * fitted.shapes[dow]
        alpha = r_var + param_var + fitted.slot_alpha
        low, high = _nb_interval(mean, alpha, q_low, q_high)
        t_low, t_high = _nb_interval(np.array([total]), r_var + param_var, q_low, q_high)
        out.append(DayForecast(day, k, True, total, mean, low, high, applied, float(t_low[0]), float(t_high[0])))
        day += dt.timedelta(days=1)
    return out


def _nb_interval(mean: np.ndarray, alpha: float, q_low: float, q_high: float) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of NB2(mean, alpha): variance mean + alpha mean² (Poisson when alpha is 0)."""
    low, high = np.zeros_like(mean), np.zeros_like(mean)
    pos = mean > 0
    m = mean[pos]
    if alpha <= 1e-9:
        low[pos], high[pos] = stats.poisson.ppf(q_low, m), stats.poisson.ppf(q_high, m)
    else:
        n = 1.0 / alpha
        p = n / (n + m)
        low[pos], high[pos] = stats.nbinom.ppf(q_low, n, p), stats.nbinom.ppf(q_high, n, p)
    return low, high


def seasonal_naive(counts: np.ndarray, first: dt.date, day: dt.date) -> np.ndarray:
    """The benchmark: the same slot of the same weekday in the history's last week (a week back from
    the day, repeated for days further ahead)."""
    last = first + dt.timedelta(days=len(counts) - 1)
    back = day - dt.timedelta(days=7)
    while back > last:
        back -= dt.timedelta(days=7)
    return np.asarray(counts[(back - first).days], dtype=float)
