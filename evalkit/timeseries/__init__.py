"""Before/after designs: interrupted time series and difference in differences.

:func:`its` (module :mod:`evalkit.timeseries.its`) fits a segmented regression to one series of
counts or rates and reports the level and slope changes at the interruption as rate ratios.
:func:`did` (module :mod:`evalkit.timeseries.did`) compares the before/after change in a
programme group with the change in a comparison group, with cluster-robust standard errors and
a test of differential pre-trends.
"""

from evalkit.timeseries.did import DID_FAMILIES, FEW_CLUSTERS, DiDResult, did
from evalkit.timeseries.its import ITS_FAMILIES, MIN_POINTS_PER_SEGMENT, ITSResult, its

__all__ = [
    "DID_FAMILIES",
    "FEW_CLUSTERS",
    "ITS_FAMILIES",
    "MIN_POINTS_PER_SEGMENT",
    "DiDResult",
    "ITSResult",
    "did",
    "its",
]
