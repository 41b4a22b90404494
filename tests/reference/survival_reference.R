## =============================================================================
## survival_reference.R -- R reference values for evalkit's survival code
## =============================================================================
##
## What it does
##   1. Reads tests/reference/data/rossi.csv (Rossi et al. 1980 recidivism data,
##      exactly as lifelines ships it: lifelines.datasets.load_rossi()).
##   2. Simulates a tie-heavy competing-risks data set (n = 3000) with a fixed
##      seed and writes it to tests/reference/data/sim_ties.csv; the analyses
##      below then re-read that CSV, so R and Python see identical data.
##   3. Runs Kaplan-Meier, log-rank, Cox (Efron/Breslow, strata, cluster,
##      weights, robust), cox.zph, RMST and Aalen-Johansen cumulative-incidence
##      analyses with base R + the 'survival' package and writes the results
##      as tidy CSVs to tests/reference/expected/*.csv (one row per value set),
##      plus expected/versions.txt (R and survival versions).
##   See tests/reference/README.md for the exact R call behind every file.
##
## How to run (from the repository root; needs R and the survival package,
## e.g. Debian: apt-get install -y r-base-core r-cran-survival):
##
##     Rscript tests/reference/survival_reference.R
##
## The Python tests never call R: they only read the committed CSVs. Re-run this
## script only when the reference set itself must change, and commit the data
## and expected/ outputs together with it.
##
## Numbers are written with sprintf("%.17g"), i.e. with enough significant
## digits to round-trip an IEEE double exactly. Missing values are written NA.
## =============================================================================

suppressPackageStartupMessages(library(survival))

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
options(stringsAsFactors = FALSE)

## ---- paths (script is run from the repository root) ------------------------
ref_dir  <- file.path("tests", "reference")
data_dir <- file.path(ref_dir, "data")
out_dir  <- file.path(ref_dir, "expected")
if (!dir.exists(data_dir)) stop("run from the repository root: ", data_dir, " not found")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

## ---- helpers ----------------------------------------------------------------

## Write a data.frame with full double precision. Character/logical columns are
## quoted (logicals as TRUE/FALSE), numbers are written unquoted with 17
## significant digits, NA as NA.
write_full <- function(df, name) {
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  is_num <- vapply(df, is.numeric, logical(1))
  chr_cols <- which(!is_num)
  for (j in which(is_num)) {
    x <- df[[j]]
    df[[j]] <- ifelse(is.na(x), NA_character_, sprintf("%.17g", x))
  }
  for (j in chr_cols) if (is.logical(df[[j]])) df[[j]] <- ifelse(df[[j]], "TRUE", "FALSE")
  path <- file.path(out_dir, name)
  write.table(df, path, sep = ",", row.names = FALSE, col.names = TRUE,
              quote = if (length(chr_cols)) chr_cols else FALSE, na = "NA")
  cat(sprintf("wrote %-24s %6d rows\n", name, nrow(df)))
  invisible(path)
}

## Strip the "var=" prefix from survfit/survdiff strata names ("fin=1" -> "1").
strip_lab <- function(x) sub("^[^=]*=", "", x)

## Group label per row of a survfit summary (or "all" for an ungrouped fit).
group_of <- function(s, n) {
  if (is.null(s$strata)) rep("all", n) else strip_lab(as.character(s$strata))
}

## =============================================================================
## 1. Data
## =============================================================================

rossi <- read.csv(file.path(data_dir, "rossi.csv"))
stopifnot(nrow(rossi) == 432,
          identical(names(rossi), c("week", "arrest", "fin", "age", "race",
                                    "wexp", "mar", "paro", "prio")))

## ---- simulated tie-heavy competing-risks data -------------------------------
## Design (all times in whole days, follow-up ends at day 365):
##  * stratum s1/s2/s3 with different baseline hazards; group C never occurs in
##    s3 (a group left out of a stratum).
##  * reoffence (cause 1): Weibull(shape 0.9) cause-specific hazard,
##    log HR = 0.5*x1 - 0.4*x2 + 0.1*x3 + 0.5*[B] + 1.0*[C] + stratum effect,
##    times a gamma frailty (mean 1, var 0.5) shared within a cluster.
##  * death (cause 2): exponential, rate 2.5e-4/day * exp(0.15*x3).
##  * endpoint times are rounded UP to whole weeks (7, 14, ..., 364) -> heavy ties.
##  * random drop-out: exponential; half of the drop-out times are rounded up
##    to whole weeks (so censorings tie with event times), half to whole days.
##  * administrative censoring at day 365 (never an event time).
##  * event = 1 iff cause == 1 (deaths are censored for the plain analyses).
##  * w ~ U(0.5, 2) case weights; cluster = 1..300, sampled with replacement.
simulate_sim <- function(n = 3000, seed = 20240611L) {
  set.seed(seed)
  n_cluster <- 300L
  stratum <- sample(c("s1", "s2", "s3"), n, replace = TRUE, prob = c(0.40, 0.35, 0.25))
  group <- character(n)
  in_s3 <- stratum == "s3"
  group[!in_s3] <- sample(c("A", "B", "C"), sum(!in_s3), replace = TRUE,
                          prob = c(0.40, 0.35, 0.25))
  group[in_s3]  <- sample(c("A", "B"), sum(in_s3), replace = TRUE, prob = c(0.55, 0.45))
  ## continuous values are kept to 6 decimals, parsed from their decimal text so
  ## that the CSV round-trips bit-for-bit (round() can be 1 ulp off the parse)
  dec6 <- function(x) as.numeric(sprintf("%.6f", x))
  x1 <- dec6(rnorm(n))
  x2 <- rbinom(n, 1, 0.4)
  x3 <- pmin(rpois(n, 2), 10L)
  w  <- dec6(runif(n, 0.5, 2))
  cluster <- sample.int(n_cluster, n, replace = TRUE)
  frailty <- rgamma(n_cluster, shape = 2, rate = 2)[cluster]

  lp <- 0.5 * x1 - 0.4 * x2 + 0.1 * x3 +
        0.5 * (group == "B") + 1.0 * (group == "C") +
        c(s1 = 0, s2 = 0.3, s3 = -0.3)[stratum]
  shape <- 0.9
  lambda1 <- 0.0045                      # Weibull scale: H1(t) = lambda1*exp(lp)*t^shape
  t1 <- (rexp(n) / (lambda1 * frailty * exp(lp)))^(1 / shape)
  t2 <- rexp(n, rate = 2.5e-4 * exp(0.15 * x3))
  t_end <- pmin(t1, t2)
  cause_end <- ifelse(t1 <= t2, 1L, 2L)
  t_end_wk <- ceiling(t_end / 7) * 7     # endpoints in whole weeks

  c_raw <- rexp(n, rate = 1 / 900)
  c_wk  <- runif(n) < 0.5
  cens  <- ifelse(c_wk, ceiling(c_raw / 7) * 7, ceiling(c_raw))
  cens  <- pmin(cens, 365)               # administrative censoring at day 365

  observed <- t_end_wk <= cens           # an endpoint seen on the censoring day counts
  time  <- ifelse(observed, t_end_wk, cens)
  cause <- ifelse(observed, cause_end, 0L)
  data.frame(id = seq_len(n), time = as.integer(time),
             event = as.integer(cause == 1L), cause = as.integer(cause),
             group = group, stratum = stratum, x1 = x1, x2 = as.integer(x2),
             x3 = as.integer(x3), w = w, cluster = as.integer(cluster))
}

sim_gen <- simulate_sim()
write.csv(sim_gen, file.path(data_dir, "sim_ties.csv"), row.names = FALSE)
sim <- read.csv(file.path(data_dir, "sim_ties.csv"))
stopifnot(isTRUE(all.equal(sim, sim_gen, tolerance = 0)))
## plain 0/1 indicators so Cox term names are "groupB"/"groupC"
sim$groupB <- as.integer(sim$group == "B")
sim$groupC <- as.integer(sim$group == "C")

## =============================================================================
## 2. Kaplan-Meier
## =============================================================================
conf_types <- c("log-log", "log", "plain")

## One KM fit; robust = NULL leaves survfit's own default (IJ for non-integer weights)
km_fit <- function(dataset, grouped, conf_type, weighted = FALSE, robust = NULL) {
  if (dataset == "rossi") {
    f <- if (grouped) Surv(week, arrest) ~ fin else Surv(week, arrest) ~ 1
    survfit(f, data = rossi, conf.type = conf_type)
  } else {
    f <- if (grouped) Surv(time, event) ~ group else Surv(time, event) ~ 1
    if (weighted) survfit(f, data = sim, weights = w, conf.type = conf_type, robust = robust)
    else survfit(f, data = sim, conf.type = conf_type)
  }
}

## (dataset, weighted, se_method, robust argument passed to survfit)
##   unweighted: Greenwood variance (R default).
##   weighted, "ij": R default for non-integer case weights (robust = TRUE,
##       infinitesimal-jackknife variance, each row its own cluster).
##   weighted, "greenwood": robust = FALSE, Greenwood formula on weighted counts.
km_variants <- list(
  list(dataset = "rossi", weighted = FALSE, se_method = "greenwood", robust = NULL),
  list(dataset = "sim",   weighted = FALSE, se_method = "greenwood", robust = NULL),
  list(dataset = "sim",   weighted = TRUE,  se_method = "ij",        robust = NULL),
  list(dataset = "sim",   weighted = TRUE,  se_method = "greenwood", robust = FALSE)
)

km_table <- list(); km_at <- list(); km_median <- list()
for (v in km_variants) {
  for (ct in conf_types) {
    for (grouped in c(TRUE, FALSE)) {
      fit <- km_fit(v$dataset, grouped, ct, v$weighted, v$robust)

      ## --- every event time ---
      s <- summary(fit, censored = FALSE)
      km_table[[length(km_table) + 1]] <- data.frame(
        dataset = v$dataset, conf_type = ct, weighted = v$weighted,
        se_method = v$se_method, group = group_of(s, length(s$time)),
        time = s$time, n_risk = s$n.risk, n_event = s$n.event,
        n_censor = s$n.censor, surv = s$surv, std_err = s$std.err,
        lower = s$lower, upper = s$upper)

      ## --- at fixed times ---
      times <- if (v$dataset == "rossi") c(13, 26, 52) else c(30, 90, 182, 365)
      s <- summary(fit, times = times)
      km_at[[length(km_at) + 1]] <- data.frame(
        dataset = v$dataset, conf_type = ct, weighted = v$weighted,
        se_method = v$se_method, group = group_of(s, length(s$time)),
        time = s$time, n_risk = s$n.risk, n_event = s$n.event,
        n_censor = s$n.censor, surv = s$surv, std_err = s$std.err,
        lower = s$lower, upper = s$upper)

      ## --- median survival and its CI ---
      tab <- summary(fit)$table
      if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list("all", names(tab)))
      km_median[[length(km_median) + 1]] <- data.frame(
        dataset = v$dataset, conf_type = ct, weighted = v$weighted,
        se_method = v$se_method, group = strip_lab(rownames(tab)),
        median = unname(tab[, "median"]), lower = unname(tab[, "0.95LCL"]),
        upper = unname(tab[, "0.95UCL"]))
    }
  }
}
km_table  <- do.call(rbind, km_table)
km_at     <- do.call(rbind, km_at)
km_median <- do.call(rbind, km_median)

## =============================================================================
## 3. Log-rank tests
## =============================================================================
logrank_one <- function(dataset, test, formula, data) {
  sd <- survdiff(formula, data = data)
  obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  ex  <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  df  <- sum(ex > 0) - 1                          # as print.survdiff
  p   <- pchisq(sd$chisq, df, lower.tail = FALSE)
  stopifnot(isTRUE(all.equal(p, sd$pvalue)))
  list(test = data.frame(dataset = dataset, test = test, chisq = sd$chisq,
                         df = df, p = p),
       groups = data.frame(dataset = dataset, test = test,
                           group = strip_lab(names(sd$n)), n = as.vector(sd$n),
                           observed = as.vector(obs), expected = as.vector(ex)))
}
lr <- list(
  logrank_one("rossi", "fin",          Surv(week, arrest) ~ fin, rossi),
  logrank_one("sim",   "group",        Surv(time, event) ~ group, sim),
  logrank_one("sim",   "group_strata", Surv(time, event) ~ group + strata(stratum), sim),
  logrank_one("sim",   "x2",           Surv(time, event) ~ x2, sim),
  logrank_one("sim",   "x2_strata",    Surv(time, event) ~ x2 + strata(stratum), sim)
)
logrank        <- do.call(rbind, lapply(lr, `[[`, "test"))
logrank_groups <- do.call(rbind, lapply(lr, `[[`, "groups"))

## =============================================================================
## 4. Cox models
## =============================================================================
rossi_f <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
models <- list(
  rossi_efron        = list(dataset = "rossi", fit = coxph(rossi_f, data = rossi, ties = "efron")),
  rossi_breslow      = list(dataset = "rossi", fit = coxph(rossi_f, data = rossi, ties = "breslow")),
  rossi_efron_robust = list(dataset = "rossi", fit = coxph(rossi_f, data = rossi, ties = "efron",
                                                           robust = TRUE)),
  sim_efron_strata   = list(dataset = "sim", fit = coxph(
    Surv(time, event) ~ x1 + x2 + x3 + groupB + groupC + strata(stratum),
    data = sim, ties = "efron")),
  sim_breslow_strata = list(dataset = "sim", fit = coxph(
    Surv(time, event) ~ x1 + x2 + x3 + groupB + groupC + strata(stratum),
    data = sim, ties = "breslow")),
  sim_efron_cluster  = list(dataset = "sim", fit = coxph(
    Surv(time, event) ~ x1 + x2 + x3, data = sim, cluster = cluster, ties = "efron")),
  sim_efron_weighted = list(dataset = "sim", fit = coxph(
    Surv(time, event) ~ x1 + x2 + x3, data = sim, weights = w, robust = TRUE, ties = "efron")),
  sim_efron_nostrata = list(dataset = "sim", fit = coxph(
    Surv(time, event) ~ x1 + x2 + x3 + groupB + groupC, data = sim, robust = TRUE,
    ties = "efron"))
)

wald_stat <- function(b, V) drop(t(b) %*% solve(V, b))

## cox_coef.csv keeps R's names; in evalkit's CoxResult.table (evalkit.survival.cox) coef is
## `estimate`, z is `statistic`, and exp(coef) with its limits are `hr`, `hr_lower`, `hr_upper`.
cox_coef <- list(); cox_tests <- list(); cox_vcov <- list()
for (m in names(models)) {
  fit <- models[[m]]$fit; ds <- models[[m]]$dataset
  stopifnot(all(!is.na(coef(fit))))
  b <- coef(fit); terms_ <- names(b); k <- length(b)
  robust <- !is.null(fit$naive.var)
  V_naive  <- if (robust) fit$naive.var else fit$var
  V_robust <- if (robust) fit$var else NULL
  se  <- sqrt(diag(V_naive))
  rse <- if (robust) sqrt(diag(V_robust)) else rep(NA_real_, k)
  z   <- b / if (robust) rse else se          # R's z/p use the robust se when robust
  cox_coef[[m]] <- data.frame(dataset = ds, model = m, term = terms_, coef = unname(b),
                              se = unname(se), robust_se = unname(rse), z = unname(z),
                              p = unname(2 * pnorm(-abs(z))))
  ## cross-check against summary()
  sc <- summary(fit)$coefficients
  stopifnot(isTRUE(all.equal(unname(sc[, "z"]), unname(z))),
            isTRUE(all.equal(unname(sc[, "se(coef)"]), unname(se))))

  lr_stat <- 2 * (fit$loglik[2] - fit$loglik[1])
  wald_naive <- wald_stat(b, V_naive)
  if (!robust) stopifnot(isTRUE(all.equal(wald_naive, unname(fit$wald.test))))
  rwald  <- if (robust) unname(fit$wald.test) else NA_real_   # printed "Wald test" for robust fits
  rscore <- if (is.null(fit$rscore)) NA_real_ else unname(fit$rscore)
  pv <- function(x) pchisq(x, k, lower.tail = FALSE)
  cox_tests[[m]] <- data.frame(
    dataset = ds, model = m, ties = fit$method, n = fit$n, nevent = fit$nevent,
    loglik0 = fit$loglik[1], loglik = fit$loglik[2],
    lr = lr_stat, lr_df = k, lr_p = pv(lr_stat),
    wald = wald_naive, wald_df = k, wald_p = pv(wald_naive),
    score = unname(fit$score), score_df = k, score_p = pv(unname(fit$score)),
    robust_wald = rwald, robust_wald_df = if (robust) k else NA_integer_,
    robust_wald_p = pv(rwald),
    robust_score = rscore, robust_score_df = if (robust) k else NA_integer_,
    robust_score_p = pv(rscore),
    concordance = unname(fit$concordance["concordance"]),
    concordance_se = unname(fit$concordance["std"]),
    iter = fit$iter)

  grid <- expand.grid(i = seq_len(k), j = seq_len(k))
  cox_vcov[[m]] <- data.frame(
    dataset = ds, model = m, row_term = terms_[grid$i], col_term = terms_[grid$j],
    naive = V_naive[cbind(grid$i, grid$j)],
    robust = if (robust) V_robust[cbind(grid$i, grid$j)] else NA_real_)
}
cox_coef  <- do.call(rbind, cox_coef)
cox_tests <- do.call(rbind, cox_tests)
cox_vcov  <- do.call(rbind, cox_vcov)

## ---- proportional-hazards test (cox.zph, survival >= 3.0 definition) -------
cox_zph <- list()
for (m in c("rossi_efron", "rossi_breslow", "sim_efron_strata")) {
  for (tr in c("km", "identity", "rank")) {
    zt <- cox.zph(models[[m]]$fit, transform = tr)$table
    cox_zph[[length(cox_zph) + 1]] <- data.frame(
      dataset = models[[m]]$dataset, model = m, transform = tr,
      term = rownames(zt), chisq = unname(zt[, "chisq"]), df = unname(zt[, "df"]),
      p = unname(zt[, "p"]))
  }
}
cox_zph <- do.call(rbind, cox_zph)

## =============================================================================
## 5. Restricted mean survival time
## =============================================================================
rmst_one <- function(dataset, fit, tau) {
  tab <- summary(fit, rmean = tau)$table
  if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list("all", names(tab)))
  data.frame(dataset = dataset, tau = tau, group = strip_lab(rownames(tab)),
             rmst = unname(tab[, "rmean"]), se = unname(tab[, "se(rmean)"]))
}
rossi_by  <- survfit(Surv(week, arrest) ~ fin, data = rossi)
rossi_all <- survfit(Surv(week, arrest) ~ 1,   data = rossi)
sim_by    <- survfit(Surv(time, event) ~ group, data = sim)
sim_all   <- survfit(Surv(time, event) ~ 1,     data = sim)
rmst <- rbind(
  rmst_one("rossi", rossi_by, 52), rmst_one("rossi", rossi_all, 52),
  rmst_one("rossi", rossi_by, 26), rmst_one("rossi", rossi_all, 26),
  rmst_one("sim", sim_by, 182),    rmst_one("sim", sim_all, 182),
  rmst_one("sim", sim_by, 365),    rmst_one("sim", sim_all, 365))

## difference of RMSTs (survRM2 / Uno et al. 2014 definition). evalkit's rmst_difference is
## two-arm: the tests pass the rows of arms g1 and g0 with group = <column>, treated = g1, so
## its estimate (treated minus control) is diff = rmst(g1) - rmst(g0) below.
rmst_diff_one <- function(dataset, tau, g1, g0) {
  r <- rmst[rmst$dataset == dataset & rmst$tau == tau, ]
  a <- r[r$group == g1, ]; b <- r[r$group == g0, ]
  stopifnot(nrow(a) == 1, nrow(b) == 1)
  d <- a$rmst - b$rmst; se <- sqrt(a$se^2 + b$se^2); z <- qnorm(0.975)
  data.frame(dataset = dataset, tau = tau, group1 = g1, group0 = g0, diff = d, se = se,
             lower = d - z * se, upper = d + z * se, p = 2 * pnorm(-abs(d / se)))
}
rmst_diff <- rbind(
  rmst_diff_one("rossi", 52, "1", "0"), rmst_diff_one("rossi", 26, "1", "0"),
  rmst_diff_one("sim", 182, "B", "A"),  rmst_diff_one("sim", 182, "C", "A"),
  rmst_diff_one("sim", 365, "B", "A"),  rmst_diff_one("sim", 365, "C", "A"))

## =============================================================================
## 6. Cumulative incidence (Aalen-Johansen, competing risks)
## =============================================================================
sim$cause_f <- factor(sim$cause, levels = 0:2, labels = c("censor", "reoffence", "death"))
cif_times <- c(30, 90, 182, 365)
cif_one <- function(fit) {
  s <- summary(fit, times = cif_times)
  states <- s$states                    # "(s0)", "reoffence", "death"
  out <- list()
  for (k in 1:2) {
    col <- match(c("reoffence", "death")[k], states)
    out[[k]] <- data.frame(dataset = "sim", group = group_of(s, length(s$time)),
                           cause = k, time = s$time,
                           n_risk = s$n.risk[, match("(s0)", states)],
                           estimate = s$pstate[, col], std_err = s$std.err[, col])
  }
  do.call(rbind, out)
}
cif <- rbind(cif_one(survfit(Surv(time, cause_f) ~ group, data = sim)),
             cif_one(survfit(Surv(time, cause_f) ~ 1,     data = sim)))

## =============================================================================
## 7. Write everything
## =============================================================================
write_full(km_table,       "km_table.csv")
write_full(km_at,          "km_at.csv")
write_full(km_median,      "km_median.csv")
write_full(logrank,        "logrank.csv")
write_full(logrank_groups, "logrank_groups.csv")
write_full(cox_coef,       "cox_coef.csv")
write_full(cox_tests,      "cox_tests.csv")
write_full(cox_vcov,       "cox_vcov.csv")
write_full(cox_zph,        "cox_zph.csv")
write_full(rmst,           "rmst.csv")
write_full(rmst_diff,      "rmst_diff.csv")
write_full(cif,            "cif.csv")

writeLines(c(R.version.string,
             paste0("survival ", as.character(packageVersion("survival")))),
           file.path(out_dir, "versions.txt"))
cat("wrote versions.txt\n")
