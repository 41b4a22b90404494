## =============================================================================
## matching_reference.R -- R reference values for evalkit.matching
## =============================================================================
##
## What it does
##   1. Simulates a diversion-scheme cohort (n = 1500, fixed seed) and writes it
##      to tests/reference/data/matching_sim.csv; everything below re-reads that
##      CSV, so R and Python see identical data.
##   2. Fits the logistic propensity score with glm() (tight convergence) and
##      writes the coefficients and the per-person scores.
##   3. Runs MatchIt's *classic exact greedy* nearest-neighbour algorithm for a
##      set of specifications (ratio 1/2, with/without replacement, calipers on
##      the propensity-score and the logit scale, exact matching, "smallest"
##      order) and writes the matched pairs, the matching weights, MatchIt's
##      summary() balance table and its sample-size table.
##   4. Computes inverse-probability weights (ATT, ATE, stabilised, truncated)
##      and their balance with MatchIt's own balance routine (bal1var, the
##      function summary.matchit() calls for every covariate), cross-checked by
##      an independent hand computation in this script.
##   5. Estimates the rate difference in the matched / weighted samples with
##      lm() and sandwich::vcovCL() (cluster-robust standard errors).
##   See tests/reference/README.md ("Matching reference values") for the exact
##   call behind every file.
##
## Why a distance matrix?
##   Since MatchIt 4.5.1, matchit(method = "nearest") with a propensity-score
##   distance uses a fast heuristic (nn_matchC_vec: sort everyone by the score and
##   compare the nearest eligible control on each side) whose tie-breaking
##   depends on sort order (MatchIt issue #180). The classic algorithm
##   (nn_matchC: for each treated unit, in order, take the eligible control with
##   the smallest distance, the first such control in data order on ties) still
##   runs when `distance` is given as a treated x control matrix. We pass
##   |PS_t - PS_c| as that matrix, with the treated units pre-sorted into the
##   processing order and m.order = "data". The controls keep their original
##   relative order, so "first in data order" means the same in R and Python.
##   For comparison the default (heuristic) path is also run and the number of
##   pairs on which it differs is recorded.
##
## How to run (from the repository root; needs R with MatchIt and sandwich):
##
##     Rscript tests/reference/matching_reference.R
##
## The Python tests never call R. Numbers are written with sprintf("%.17g").
## =============================================================================

suppressPackageStartupMessages({
  library(MatchIt)
  library(sandwich)
})

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
options(stringsAsFactors = FALSE)

ref_dir  <- file.path("tests", "reference")
data_dir <- file.path(ref_dir, "data")
out_dir  <- file.path(ref_dir, "expected")
if (!dir.exists(data_dir)) stop("run from the repository root: ", data_dir, " not found")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

## ---- helpers ----------------------------------------------------------------
write_full <- function(df, name) {
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  rownames(df) <- NULL
  out <- df
  for (nm in names(df)) {
    x <- df[[nm]]
    if (is.numeric(x)) {
      s <- ifelse(is.na(x), "NA", sprintf("%.17g", x))
      s[is.finite(x) & x == round(x) & abs(x) < 1e15] <-
        sprintf("%.0f", x[is.finite(x) & x == round(x) & abs(x) < 1e15])
      out[[nm]] <- s
    } else {
      x <- as.character(x)
      out[[nm]] <- ifelse(is.na(x), "NA", paste0("\"", x, "\""))
    }
  }
  path <- file.path(out_dir, name)
  if (startsWith(name, "data/")) path <- file.path(ref_dir, name)
  con <- file(path, open = "w")
  writeLines(paste(names(out), collapse = ","), con)
  if (nrow(out) > 0) writeLines(do.call(paste, c(unname(as.list(out)), sep = ",")), con)
  close(con)
  invisible(path)
}

## MatchIt pastes dummy names together ("offence_typeother"); the expected files
## name them "<column>_<level>", evalkit's names when they were written. evalkit
## now writes "<column>[<level>]" (issue 10); tests/test_matching.py maps the
## names (r_term) and compares the values unchanged.
py_names <- function(x) {
  x <- sub("^offence_type", "offence_type_", x)
  x <- sub("^court", "court_", x)
  x
}

## ---- 1. simulate the cohort --------------------------------------------------
simulate_sim <- function(n = 1500) {
  set.seed(20240612)
  age <- round(pmax(18, rnorm(n, 32, 9)), 1)
  female <- rbinom(n, 1, 0.2)
  prior_offences <- rpois(n, exp(0.6 + 0.02 * (age - 32)))
  risk_score <- round(rnorm(n, 0.3 * female + 0.1 * prior_offences, 1), 6)
  employed <- rbinom(n, 1, plogis(0.3 - 0.15 * prior_offences))
  offence_type <- sample(c("acquisitive", "violence", "other"), n, replace = TRUE,
                         prob = c(0.45, 0.30, 0.25))
  court <- sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
  lp <- -1.3 + 0.03 * (age - 32) - 0.5 * female + 0.2 * prior_offences +
    0.7 * risk_score + 0.4 * (offence_type == "violence") - 0.3 * employed
  treated <- rbinom(n, 1, plogis(lp))
  ## court "D": a small court that only runs the scheme, so every person there is
  ## treated -- an exact-matching cell with treated units and no controls.
  d_rows <- c(17, 402, 777, 1001, 1234, 1499)
  court[d_rows] <- "D"
  treated[d_rows] <- 1L
  y_lp <- -0.9 + 0.25 * prior_offences + 0.4 * risk_score - 0.02 * (age - 32) -
    0.35 * treated
  reoffended <- rbinom(n, 1, plogis(y_lp))
  data.frame(id = seq_len(n), treated = as.integer(treated), age = age,
             female = as.integer(female), prior_offences = as.integer(prior_offences),
             risk_score = risk_score, employed = as.integer(employed),
             offence_type = offence_type, court = court,
             reoffended = as.integer(reoffended))
}

sim0 <- simulate_sim()
write_full(sim0, "data/matching_sim.csv")
sim <- read.csv(file.path(data_dir, "matching_sim.csv"), stringsAsFactors = FALSE)
stopifnot(identical(dim(sim), dim(sim0)),
          isTRUE(all.equal(sim, sim0, tolerance = 0)))

## ---- 2. propensity score -------------------------------------------------------
ps_formula <- treated ~ age + female + prior_offences + risk_score + employed + offence_type
fit <- glm(ps_formula, data = sim, family = binomial(),
           control = glm.control(epsilon = 1e-14, maxit = 100))
stopifnot(fit$converged)
co <- summary(fit)$coefficients
write_full(data.frame(term = py_names(rownames(co)), estimate = co[, 1], se = co[, 2],
                      z = co[, 3], p = co[, 4]), "matching_ps_coef.csv")
sim$ps <- unname(fitted(fit))
sim$lp <- unname(predict(fit, type = "link"))
write_full(data.frame(id = sim$id, ps = sim$ps, lp = sim$lp), "matching_scores.csv")
write_full(data.frame(deviance = fit$deviance, null_deviance = fit$null.deviance,
                      aic = fit$aic, iter = fit$iter), "matching_ps_fit.csv")

## ---- 3. exact greedy matching through a distance matrix ----------------------
covs_formula <- treated ~ age + female + prior_offences + risk_score + employed + offence_type

## spec table: one row per matching specification
specs <- data.frame(
  spec     = c("nn1", "nn2", "nn1_replace", "nn2_replace", "nn1_caliper",
               "nn1_caliper_logit", "nn1_exact", "nn2_exact_caliper", "nn1_smallest"),
  ratio    = c(1, 2, 1, 2, 1, 1, 1, 2, 1),
  replace  = c(FALSE, FALSE, TRUE, TRUE, FALSE, FALSE, FALSE, FALSE, FALSE),
  order    = c("largest", "largest", "largest", "largest", "largest", "largest",
               "largest", "largest", "smallest"),
  caliper  = c(NA, NA, NA, NA, 0.05, 0.2, NA, 0.1, NA),
  link     = c("logit", "logit", "logit", "logit", "logit", "linear.logit",
               "logit", "logit", "logit"),
  exact    = c(NA, NA, NA, NA, NA, NA, "court", "court", NA)
)
specs$caliper_abs <- NA_real_

pairs_out <- list(); units_out <- list(); counts_out <- list(); bal_out <- list()
effects_out <- list(); default_out <- list()

for (s in seq_len(nrow(specs))) {
  sp <- specs[s, ]
  dist <- if (sp$link == "linear.logit") sim$lp else sim$ps
  ## processing order of the treated: by distance, ties by row (stable)
  tr <- which(sim$treated == 1)
  tr_sorted <- if (sp$order == "largest") tr[order(-dist[tr], tr)] else tr[order(dist[tr], tr)]
  ct <- which(sim$treated == 0)                 # controls keep their data order
  dat <- sim[c(tr_sorted, ct), ]
  rownames(dat) <- as.character(dat$id)
  dmat <- abs(outer(dist[tr_sorted], dist[ct], "-"))
  dimnames(dmat) <- list(as.character(sim$id[tr_sorted]), as.character(sim$id[ct]))
  cal <- NULL
  if (!is.na(sp$caliper)) {
    cal <- sp$caliper * sd(dist)                # MatchIt: caliper x sd(distance), all units
    specs$caliper_abs[s] <- cal
  }
  args <- list(formula = covs_formula, data = dat, method = "nearest",
               distance = dmat, m.order = "data", ratio = sp$ratio,
               replace = sp$replace, estimand = "ATT")
  if (!is.null(cal)) { args$caliper <- cal; args$std.caliper <- FALSE }
  if (!is.na(sp$exact)) args$exact <- as.formula(paste("~", sp$exact))
  m <- suppressWarnings(do.call(matchit, args))

  mm <- m$match.matrix                          # rows: treated ids; entries: control ids
  for (j in seq_len(ncol(mm))) {
    ok <- !is.na(mm[, j])
    if (any(ok)) pairs_out[[length(pairs_out) + 1]] <- data.frame(
      spec = sp$spec, treated_id = as.integer(rownames(mm)[ok]),
      control_id = as.integer(mm[ok, j]), column = j)
  }
  w <- m$weights[as.character(sim$id)]
  sc <- if (is.null(m$subclass)) rep(NA_integer_, nrow(sim)) else
    as.integer(m$subclass[as.character(sim$id)])
  units_out[[s]] <- data.frame(spec = sp$spec, id = sim$id, treated = sim$treated,
                               weight = unname(w), subclass = sc)

  ## balance with MatchIt's summary(); the distance is added as a covariate so
  ## its row is computed by the same code as the others
  addl <- data.frame(distance = dist[match(dat$id, sim$id)])
  sm <- summary(m, addlvariables = addl, un = TRUE, pair.dist = FALSE)
  for (which_tab in c("all", "matched")) {
    tab <- if (which_tab == "all") sm$sum.all else sm$sum.matched
    bal_out[[length(bal_out) + 1]] <- data.frame(
      spec = sp$spec, sample = which_tab, covariate = py_names(rownames(tab)),
      mean_treated = tab[, "Means Treated"], mean_control = tab[, "Means Control"],
      smd = tab[, "Std. Mean Diff."], var_ratio = tab[, "Var. Ratio"],
      ecdf_mean = tab[, "eCDF Mean"], ecdf_max = tab[, "eCDF Max"])
  }
  nn <- sm$nn
  counts_out[[s]] <- data.frame(spec = sp$spec, row = rownames(nn),
                                control = nn[, "Control"], treated = nn[, "Treated"])

  ## rate difference in the matched sample, cluster-robust SE (MatchIt's
  ## "Estimating effects" vignette): lm + vcovCL
  if (!sp$replace) {
    md <- match.data(m)
    f <- lm(reoffended ~ treated, data = md, weights = weights)
    V <- vcovCL(f, cluster = ~subclass)          # type "HC1", cadjust = TRUE
    clusters <- "subclass"
    n_rows <- nrow(md)
  } else {
    gm <- get_matches(m, id = "unit_id")
    f <- lm(reoffended ~ treated, data = gm, weights = weights)
    V <- vcovCL(f, cluster = ~subclass + unit_id)
    clusters <- "subclass+unit_id"
    n_rows <- nrow(gm)
  }
  effects_out[[length(effects_out) + 1]] <- data.frame(
    spec = sp$spec, estimate = unname(coef(f)["treated"]),
    se = sqrt(V["treated", "treated"]), clusters = clusters, n_rows = n_rows)

  ## MatchIt's default (heuristic, nn_matchC_vec) path on the same problem,
  ## for the record: on how many treated units does it pick a different set?
  args_def <- list(formula = covs_formula, data = sim, method = "nearest",
                   distance = dist, m.order = sp$order, ratio = sp$ratio,
                   replace = sp$replace, estimand = "ATT")
  if (!is.null(cal)) { args_def$caliper <- cal; args_def$std.caliper <- FALSE }
  if (!is.na(sp$exact)) args_def$exact <- as.formula(paste("~", sp$exact))
  rownames(sim) <- as.character(sim$id)
  args_def$data <- sim
  mdef <- suppressWarnings(do.call(matchit, args_def))
  mmd <- mdef$match.matrix
  key <- function(M) apply(M, 1, function(r) paste(sort(r[!is.na(r)]), collapse = " "))
  ka <- key(mm)[rownames(mmd)]; kb <- key(mmd)
  dd <- dist[as.integer(mmd)] - dist[as.integer(rownames(mmd))[row(mmd)]]
  default_out[[s]] <- data.frame(
    spec = sp$spec, n_treated = nrow(mmd), n_differing = sum(ka != kb),
    n_matched_exact_path = sum(!is.na(mm[, 1])), n_matched_default_path = sum(!is.na(mmd[, 1])),
    share_default_below = mean(dd[!is.na(dd)] <= 0),
    n_default_same_control_twice = sum(apply(mmd, 1, function(r) anyDuplicated(r[!is.na(r)]) > 0)))
}

write_full(do.call(rbind, pairs_out), "matching_pairs.csv")
write_full(do.call(rbind, units_out), "matching_units.csv")
write_full(do.call(rbind, bal_out), "matching_balance.csv")
write_full(do.call(rbind, counts_out), "matching_counts.csv")
write_full(do.call(rbind, effects_out), "matching_effects.csv")
write_full(do.call(rbind, default_out), "matching_default_path.csv")
write_full(specs, "matching_specs.csv")

## ---- 4. inverse-probability weights -----------------------------------------
p <- sim$ps; z <- sim$treated
w_att <- ifelse(z == 1, 1, p / (1 - p))
w_ate <- ifelse(z == 1, 1 / p, 1 / (1 - p))
w_ate_stab <- w_ate * ifelse(z == 1, mean(z == 1), mean(z == 0))
q_att <- unname(quantile(w_att[z == 0], 0.95, type = 7))      # controls only (ATT)
w_att_trim95 <- ifelse(z == 0 & w_att > q_att, q_att, w_att)
q_ate <- unname(quantile(w_ate, 0.95, type = 7))               # all units (ATE)
w_ate_trim95 <- pmin(w_ate, q_ate)
w_ate_max10 <- pmin(w_ate, 10)
weights_tab <- data.frame(id = sim$id, w_att = w_att, w_ate = w_ate,
                          w_ate_stab = w_ate_stab, w_att_trim95 = w_att_trim95,
                          w_ate_trim95 = w_ate_trim95, w_ate_max10 = w_ate_max10)
write_full(weights_tab, "matching_ipw.csv")
write_full(data.frame(
  weighting = c("att_trim95", "ate_trim95", "ate_max10"),
  threshold = c(q_att, q_ate, 10),
  n_trimmed = c(sum(z == 0 & w_att > q_att), sum(w_ate > q_ate), sum(w_ate > 10))),
  "matching_ipw_trim.csv")

## balance with MatchIt's bal1var (what summary.matchit() runs per covariate)
X <- MatchIt:::get.covs.matrix(
  reformulate(c("age", "female", "prior_offences", "risk_score", "employed",
                "offence_type")), data = sim)
X <- cbind(distance = p, X)
wbal <- list(); wess <- list()
ESS <- function(w) sum(w)^2 / sum(w^2)
for (wn in c("w_att", "w_ate", "w_ate_stab", "w_att_trim95", "w_ate_max10")) {
  ww <- weights_tab[[wn]]
  estimand <- if (startsWith(wn, "w_att")) "ATT" else "ATE"
  denom <- if (estimand == "ATT") "treated" else "pooled"
  for (which_tab in c("all", "weighted")) {
    rows <- lapply(seq_len(ncol(X)), function(i) {
      MatchIt:::bal1var(X[, i], tt = z, ww = if (which_tab == "all") NULL else ww,
                        s.weights = rep(1, nrow(sim)), standardize = TRUE,
                        s.d.denom = denom, compute.pair.dist = FALSE)
    })
    tab <- do.call(rbind, rows)
    ## independent hand computation of the means and SMDs (cobalt conventions)
    for (i in seq_len(ncol(X))) {
      x <- X[, i]; bin <- all(x == 0 | x == 1)
      u <- if (which_tab == "all") rep(1, length(x)) else ww
      m1 <- sum(u[z == 1] * x[z == 1]) / sum(u[z == 1])
      m0 <- sum(u[z == 0] * x[z == 0]) / sum(u[z == 0])
      v <- function(x) if (bin) mean(x) * (1 - mean(x)) else var(x)
      sd_ <- if (estimand == "ATT") sqrt(v(x[z == 1])) else
        sqrt((v(x[z == 1]) + v(x[z == 0])) / 2)
      stopifnot(abs(tab[i, "Means Treated"] - m1) < 1e-12,
                abs(tab[i, "Means Control"] - m0) < 1e-12,
                abs(tab[i, "Std. Mean Diff."] - (m1 - m0) / sd_) < 1e-12)
    }
    wbal[[length(wbal) + 1]] <- data.frame(
      weighting = sub("^w_", "", wn), sample = which_tab,
      covariate = py_names(colnames(X)),
      mean_treated = tab[, "Means Treated"], mean_control = tab[, "Means Control"],
      smd = tab[, "Std. Mean Diff."], var_ratio = tab[, "Var. Ratio"],
      ecdf_mean = tab[, "eCDF Mean"], ecdf_max = tab[, "eCDF Max"])
  }
  nn <- MatchIt:::nn(z, ww)
  stopifnot(abs(nn["Matched (ESS)", "Control"] - ESS(ww[z == 0])) < 1e-9)
  wess[[length(wess) + 1]] <- data.frame(
    weighting = sub("^w_", "", wn),
    ess_control = nn["Matched (ESS)", "Control"], ess_treated = nn["Matched (ESS)", "Treated"],
    sum_control = sum(ww[z == 0]), sum_treated = sum(ww[z == 1]))

  ## weighted rate difference, robust (HC1) SE
  f <- lm(reoffended ~ treated, data = sim, weights = ww)
  V <- vcovHC(f, type = "HC1")
  effects_out[[length(effects_out) + 1]] <- data.frame(
    spec = sub("^w_", "ipw_", wn), estimate = unname(coef(f)["treated"]),
    se = sqrt(V["treated", "treated"]), clusters = "none", n_rows = nrow(sim))
}
write_full(do.call(rbind, wbal), "matching_ipw_balance.csv")
write_full(do.call(rbind, wess), "matching_ipw_ess.csv")
write_full(do.call(rbind, effects_out), "matching_effects.csv")

writeLines(c(R.version.string,
             paste("MatchIt", as.character(packageVersion("MatchIt"))),
             paste("sandwich", as.character(packageVersion("sandwich")))),
           file.path(out_dir, "matching_versions.txt"))
cat("matching reference values written to", out_dir, "\n")
