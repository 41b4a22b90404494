"""Cox proportional-hazards regression (R's ``survival::coxph``).

* :mod:`~evalkit.survival.cox.engine`: Newton–Raphson and :func:`cox` itself;
* :mod:`~evalkit.survival.cox.riskset`: rows sorted by time, the partial likelihood, its score
  and information summed over the rows;
* :mod:`~evalkit.survival.cox.grouped`: the same with one BLAS product per tied time;
* :mod:`~evalkit.survival.cox.result`: :class:`CoxResult`;
* :mod:`~evalkit.survival.cox.concordance`: Harrell's C (:class:`Concordance`);
* :mod:`~evalkit.survival.cox.zph`: the ``cox.zph`` test of proportional hazards;
* :mod:`~evalkit.survival.cox.robust`: score residuals and the Lin–Wei sandwich;
* :mod:`~evalkit.survival.cox.counting`: counting-process ``(start, stop]`` risk sets;
* :mod:`~evalkit.survival.cox.linalg`: R's LDLᵀ solves and inverses.
"""

from evalkit.survival.cox.concordance import Concordance
from evalkit.survival.cox.engine import TIES, cox
from evalkit.survival.cox.result import CoxResult
from evalkit.survival.cox.zph import TRANSFORMS

__all__ = ["TIES", "TRANSFORMS", "Concordance", "CoxResult", "cox"]
