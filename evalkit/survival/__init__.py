"""Survival analysis of time to reoffence.

Every estimator reproduces R's ``survival`` package (survival 3.x; reference values and the
script that made them are in ``tests/reference/``). One module per statistic:

* :mod:`~evalkit.survival.km`: Kaplan–Meier curves (:func:`kaplan_meier`);
* :mod:`~evalkit.survival.logrank`: the log-rank test (:func:`logrank`);
* :mod:`~evalkit.survival.rmst`: restricted mean survival time (:func:`rmst`) and its
  difference between two arms (:func:`rmst_difference`);
* :mod:`~evalkit.survival.cif`: cumulative incidence of competing events
  (:func:`cumulative_incidence`);
* :mod:`evalkit.survival.cox`: Cox regression (:func:`cox`), with concordance and the
  ``cox.zph`` test.

``by=`` names the group column of the k-group summaries (``kaplan_meier``, ``logrank``,
``rmst``, ``cumulative_incidence``); the two-arm ``rmst_difference`` takes ``group=`` and
``treated=`` like every two-arm method.
"""

from evalkit.survival._common import CONF_TYPES
from evalkit.survival.cif import CumulativeIncidenceResult, cumulative_incidence
from evalkit.survival.cox import TIES, TRANSFORMS, Concordance, CoxResult, cox
from evalkit.survival.km import VARIANCES, KaplanMeierResult, kaplan_meier
from evalkit.survival.logrank import LogRankResult, logrank
from evalkit.survival.rmst import RMSTDifferenceResult, RMSTResult, rmst, rmst_difference

__all__ = [
    "CONF_TYPES",
    "TIES",
    "TRANSFORMS",
    "VARIANCES",
    "Concordance",
    "CoxResult",
    "CumulativeIncidenceResult",
    "KaplanMeierResult",
    "LogRankResult",
    "RMSTDifferenceResult",
    "RMSTResult",
    "cox",
    "cumulative_incidence",
    "kaplan_meier",
    "logrank",
    "rmst",
    "rmst_difference",
]
