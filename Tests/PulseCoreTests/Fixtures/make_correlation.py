#!/usr/bin/env python3
"""Writes correlation.json: a fixture of rep-weeks (morale, calls) with the statistics
SciPy and Pingouin compute on it, for CorrelationTests to match to 1e-9.
A dev tool (pip install scipy pingouin pandas), not a runtime dependency.
Usage: python3 make_correlation.py > correlation.json"""
import json, random
import numpy as np
import pandas as pd
import pingouin as pg
import scipy
from scipy import stats

random.seed(20261123)
rows = []
for rep in range(9):
    base_morale, base_calls = random.uniform(30, 80), random.randint(10, 60)
    for week in range(10):
        if random.random() < 0.15:
            continue  # a missed week
        m = round(base_morale + random.gauss(0, 8), 1)
        # Within a rep, more calls in better weeks; ties are common (whole numbers).
        c = max(0, int(round(base_calls + 0.4 * (m - base_morale) + random.gauss(0, 4))))
        rows.append({"rep": rep, "week": week, "morale": m, "calls": float(c)})
df = pd.DataFrame(rows)
x, y = df["morale"].to_numpy(), df["calls"].to_numpy()
p = stats.pearsonr(x, y)
ci = p.confidence_interval(0.95)
s = stats.spearmanr(x, y)
rm = pg.rm_corr(data=df, x="morale", y="calls", subject="rep")
# Small samples too: the p-value's tails.
small = stats.pearsonr(x[:5], y[:5])
out = {
    "made_by": f"scipy {scipy.__version__}, pingouin {pg.__version__}",
    "rows": rows,
    "pearson": {"r": float(p.statistic), "p": float(p.pvalue), "ci95": [float(ci.low), float(ci.high)]},
    "spearman": {"rho": float(s.statistic), "p": float(s.pvalue)},
    "rm_corr": {"r": float(rm["r"].iloc[0]), "df": int(rm["dof"].iloc[0]), "p": float(rm["pval"].iloc[0]),
                # rm_corr rounds its interval to 2 decimals; the same call it makes, unrounded:
                "ci95": [float(v) for v in pg.compute_esci(stat=float(rm["r"].iloc[0]), nx=int(rm["dof"].iloc[0]) + 2,
                                                          eftype="pearson", decimals=15)],
                "ci95_as_printed": [float(v) for v in rm["CI95"].iloc[0]]},
    "pearson_first5": {"r": float(small.statistic), "p": float(small.pvalue)},
    "ranks": [float(v) for v in stats.rankdata([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])],
}
print(json.dumps(out, indent=1))
