## =============================================================================
## timeseries_reference.R -- R reference values for evalkit.timeseries (its, did)
## =============================================================================
##
## What it does
##   1. Reads tests/reference/data/sicily.csv: the monthly acute coronary event
##      (ACE) counts in Sicily, 2002-2006, and the 2005 smoking ban, exactly as
##      published by Lopez Bernal, Cummins & Gasparrini (2017) IJE 46:348 with
##      their tutorial code (github.com/gasparrini/2017_lopezbernal_IJE_codedata).
##   2. Simulates two small data sets with fixed seeds, writes them to
##      tests/reference/data/sim_its.csv (a monthly count series with dates,
##      population, seasonality, AR(1) noise and overdispersion) and
##      tests/reference/data/sim_did.csv (30 areas x 10 months, treated/control,
##      area-level clustering); the analyses re-read the CSVs so that R and
##      Python see identical data.
##   3. Fits interrupted-time-series GLMs (Poisson, quasi-Poisson, MASS::glm.nb,
##      Fourier harmonics, change in slope, sandwich::NeweyWest) and
##      difference-in-differences models (lm / glm Poisson with
##      sandwich::vcovCL and sandwich::vcovHC, pre-trend Wald tests) and writes
##      tidy CSVs to tests/reference/expected/timeseries_*.csv.
##   See the "Time series" section of tests/reference/README.md for every call.
##
## How to run (from the repository root; needs base R, MASS and sandwich,
## e.g. Debian: apt-get install -y r-base-core r-cran-mass r-cran-sandwich):
##
##     Rscript tests/reference/timeseries_reference.R
##
## The Python tests never call R: they only read the committed CSVs.
## Numbers are written with sprintf("%.17g") (they round-trip an IEEE double).
##
## Conventions shared with evalkit.timeseries
##   * time is re-centred at the first post-intervention time point:
##     tc = time - t_first_post (so the intercept is the counterfactual log rate
##     at the first post-intervention point; the other coefficients do not
##     depend on the origin).
##   * slope-change term: post * tc (0 before, 0 at the first post point, 1, 2,
##     ... after), so exp(level) is the rate ratio AT THE FIRST POST POINT.
##     Wagner et al. (2002) and the Lopez Bernal R code use post * (time -
##     t_last_pre) instead; model "sicily_bernal_model4" is fitted with that
##     coding to check the documented relation between the two.
##   * harmonics: sin/cos(2*pi*k*time/period), k = 1..K, on the raw time value
##     (for dates: the month index 12*year + month, so k-th harmonics are
##     aligned with calendar months exactly as tsModel::harmonic(month, K, 12)).
##   * CIs and p-values are Wald with the normal quantile (qnorm), as
##     Epi::ci.exp, confint.default and Stata's glm; for quasi-Poisson this
##     differs from summary.glm, whose p-values use t(df.residual).
##   * Newey-West: sandwich::NeweyWest(fit, lag = L, prewhite = FALSE,
##     adjust = TRUE): Bartlett weights 1 - j/(L+1), no pre-whitening, and the
##     small-sample factor n/(n-k).
##   * Cluster-robust (CR1): sandwich::vcovCL(fit, cluster = CL, type = "HC1",
##     cadjust = TRUE) = G/(G-1) * (n-1)/(n-k) * (bread meat bread); with no
##     cluster, sandwich::vcovHC(fit, type = "HC1") = n/(n-k) * HC0.
## =============================================================================

suppressPackageStartupMessages({
  library(MASS)
  library(sandwich)
})

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
options(stringsAsFactors = FALSE)

ref_dir  <- file.path("tests", "reference")
data_dir <- file.path(ref_dir, "data")
out_dir  <- file.path(ref_dir, "expected")
if (!dir.exists(data_dir)) stop("run from the repository root: ", data_dir, " not found")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

z975 <- qnorm(0.975)

write_full <- function(df, name, dir = out_dir) {
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  is_num <- vapply(df, is.numeric, logical(1))
  chr_cols <- which(!is_num)
  for (j in which(is_num)) {
    x <- df[[j]]
    df[[j]] <- ifelse(is.na(x), NA_character_, sprintf("%.17g", x))
  }
  path <- file.path(dir, name)
  write.table(df, path, sep = ",", row.names = FALSE, col.names = TRUE,
              quote = if (length(chr_cols)) chr_cols else FALSE, na = "NA")
  cat(sprintf("wrote %-34s %6d rows\n", name, nrow(df)))
  invisible(path)
}

## Fourier terms with evalkit's column names
add_harmonics <- function(d, t, K, period = 12) {
  for (k in seq_len(K)) {
    d[[paste0("sin", k)]] <- sin(2 * pi * k * t / period)
    d[[paste0("cos", k)]] <- cos(2 * pi * k * t / period)
  }
  d
}

## =============================================================================
## 1. Data
## =============================================================================

sicily <- read.csv(file.path(data_dir, "sicily.csv"))
stopifnot(nrow(sicily) == 59, sum(sicily$aces) == 48914L,
          identical(names(sicily), c("year", "month", "aces", "time", "smokban",
                                     "pop", "stdpop")))

## ---- simulated monthly ITS series ------------------------------------------
## 60 months, Jan 2019 - Dec 2023; intervention from Jul 2021 (month 31).
## log mu = log(pop) + log(4e-4) + 0.004*t + 0.15 sin + 0.10 cos (12-month)
##          - 0.25 post - 0.010 post*(t - 31) + u_t,  u_t AR(1), rho 0.5, sd 0.10
## count ~ Poisson(mu): overdispersed (through u) and autocorrelated.
simulate_its <- function(seed = 20240701L) {
  set.seed(seed)
  n <- 60L
  t <- seq_len(n)
  date <- seq(as.Date("2019-01-01"), by = "month", length.out = n)
  month <- as.integer(format(date, "%m"))
  post <- as.integer(t >= 31L)
  pop <- as.integer(round(50000 + 120 * t + rnorm(n, 0, 300)))
  u <- as.numeric(arima.sim(list(ar = 0.5), n = n, sd = 0.10 * sqrt(1 - 0.25)))
  eta <- log(pop) + log(4e-4) + 0.004 * t + 0.15 * sin(2 * pi * month / 12) +
         0.10 * cos(2 * pi * month / 12) - 0.25 * post - 0.010 * post * (t - 31) + u
  count <- rpois(n, exp(eta))
  data.frame(month = format(date, "%Y-%m-%d"), count = count, population = pop,
             post = post)
}
write_full(simulate_its(), "sim_its.csv", dir = data_dir)
sim_its <- read.csv(file.path(data_dir, "sim_its.csv"))

## ---- simulated DiD panel -----------------------------------------------------
## 30 areas x 10 months; 15 treated areas (sampled); post = month >= 6.
## y (continuous): 10 + a_i + 0.3*month + 1.0*treated + 2.0*treated*post + e,
##   a_i ~ N(0, 1.5^2) area effect, e ~ N(0, 1) with AR(1) 0.6 within area, so
##   rows of an area are correlated (clustering matters).
## count: Poisson(pop_i * exp(-6 + b_i + 0.02*month + 0.2*treated
##                          - 0.3*treated*post + v)), b_i ~ N(0, 0.3^2),
##   v ~ N(0, 0.15^2) area-month noise; pop_i ~ U(2000, 8000) (integer).
simulate_did <- function(seed = 20240702L) {
  set.seed(seed)
  G <- 30L; Tm <- 10L
  treated_areas <- sort(sample.int(G, 15L))
  area <- rep(seq_len(G), each = Tm)
  month <- rep(seq_len(Tm), times = G)
  treated <- as.integer(area %in% treated_areas)
  post <- as.integer(month >= 6L)
  a <- rnorm(G, 0, 1.5)[area]
  e <- unlist(lapply(seq_len(G), function(i)
    as.numeric(arima.sim(list(ar = 0.6), n = Tm, sd = sqrt(1 - 0.36)))))
  y <- 10 + a + 0.3 * month + 1.0 * treated + 2.0 * treated * post + e
  y <- as.numeric(sprintf("%.6f", y))
  pop <- as.integer(round(runif(G, 2000, 8000)))[area]
  b <- rnorm(G, 0, 0.3)[area]
  v <- rnorm(G * Tm, 0, 0.15)
  count <- rpois(G * Tm, pop * exp(-6 + b + 0.02 * month + 0.2 * treated -
                                     0.3 * treated * post + v))
  data.frame(area = area, month = month, treated = treated, post = post, y = y,
             count = count, population = pop)
}
write_full(simulate_did(), "sim_did.csv", dir = data_dir)
sim_did <- read.csv(file.path(data_dir, "sim_did.csv"))

## =============================================================================
## 2. Interrupted time series
## =============================================================================

## Tidy summary of one ITS fit: every coefficient, its SE (from vcov V), rate
## ratio, Wald CI and p; plus the effect at the end of the series.
## In evalkit: coef/se are `estimate`/`se` of ITSResult.coefficients and .table (log
## scale); rr/lower/upper here are `rr`/`rr_lower`/`rr_upper` of ITSResult.table.
its_rows <- function(model, fit, V, d_end, extra = list()) {
  b <- coef(fit)
  se <- sqrt(diag(V))
  z <- b / se
  out <- data.frame(model = model, term = names(b), coef = unname(b), se = unname(se),
                    rr = exp(unname(b)), lower = exp(unname(b - z975 * se)),
                    upper = exp(unname(b + z975 * se)), p = 2 * pnorm(-abs(unname(z))))
  if ("slope" %in% names(b)) {
    a <- setNames(rep(0, length(b)), names(b)); a["post"] <- 1; a["slope"] <- d_end
    est <- sum(a * b); s <- sqrt(drop(t(a) %*% V %*% a))
    pt <- b["trend"] + b["slope"]
    a2 <- setNames(rep(0, length(b)), names(b)); a2["trend"] <- 1; a2["slope"] <- 1
    s2 <- sqrt(drop(t(a2) %*% V %*% a2))
    out <- rbind(out,
      data.frame(model = model, term = "effect_at_end", coef = est, se = s, rr = exp(est),
                 lower = exp(est - z975 * s), upper = exp(est + z975 * s),
                 p = 2 * pnorm(-abs(est / s))),
      data.frame(model = model, term = "post_trend", coef = unname(pt), se = s2,
                 rr = exp(unname(pt)), lower = exp(unname(pt) - z975 * s2),
                 upper = exp(unname(pt) + z975 * s2), p = 2 * pnorm(-abs(unname(pt) / s2))))
  }
  out
}

## alpha = 1 / theta (glm.nb) is evalkit's ITSResult.nb_alpha (Var = mu + alpha mu^2).
its_info <- function(model, fit, family, hac_lag = NA, theta = NA, theta_se = NA) {
  disp <- if (family == "quasipoisson") summary(fit)$dispersion else 1
  data.frame(model = model, family = family, n = nobs(fit), df_resid = fit$df.residual,
             dispersion = disp, deviance = deviance(fit),
             pearson_chi2 = sum(residuals(fit, "pearson")^2),
             theta = theta, theta_se = theta_se, alpha = 1 / theta,
             loglik = if (family == "negbin") as.numeric(logLik(fit)) else NA,
             hac_lag = hac_lag)
}

## ---- Sicily design -----------------------------------------------------------
t1 <- min(sicily$time[sicily$smokban == 1])          # first post-ban month: 37
sic <- data.frame(aces = sicily$aces, stdpop = sicily$stdpop,
                  post = sicily$smokban, trend = sicily$time - t1)
sic$slope <- sic$post * sic$trend
sic <- add_harmonics(sic, sicily$time, 2, 12)
d_end_sic <- max(sicily$time) - t1                   # 22 months after the first post month

its_coef <- list(); its_fit_info <- list(); its_series <- list()
add_its <- function(model, fit, V, family, d_end, hac_lag = NA, theta = NA, theta_se = NA) {
  its_coef[[model]] <<- its_rows(model, fit, V, d_end)
  its_fit_info[[model]] <<- its_info(model, fit, family, hac_lag, theta, theta_se)
}

## (1) Poisson, step change, age-standardised population offset (their model1)
f <- glm(aces ~ post + trend + offset(log(stdpop)), family = poisson, data = sic,
         control = glm.control(epsilon = 1e-12, maxit = 100))
add_its("sicily_poisson", f, vcov(f), "poisson", d_end_sic)

## (2) quasi-Poisson, step change (their model2)
f <- glm(aces ~ post + trend + offset(log(stdpop)), family = quasipoisson, data = sic,
         control = glm.control(epsilon = 1e-12, maxit = 100))
add_its("sicily_quasipoisson", f, vcov(f), "quasipoisson", d_end_sic)

## (3) quasi-Poisson + 2 harmonic pairs, period 12 (their model3)
f3 <- glm(aces ~ post + trend + sin1 + cos1 + sin2 + cos2 + offset(log(stdpop)),
          family = quasipoisson, data = sic, control = glm.control(epsilon = 1e-12, maxit = 100))
add_its("sicily_quasi_harm2", f3, vcov(f3), "quasipoisson", d_end_sic)

## (4) + change in slope, evalkit coding post*(time - 37)
f4 <- glm(aces ~ post + trend + slope + sin1 + cos1 + sin2 + cos2 + offset(log(stdpop)),
          family = quasipoisson, data = sic, control = glm.control(epsilon = 1e-12, maxit = 100))
add_its("sicily_quasi_harm2_slope", f4, vcov(f4), "quasipoisson", d_end_sic)
## fitted and counterfactual series of model (4) (counts, on the data's own offset)
X <- model.matrix(f4)
Xcf <- X; Xcf[, c("post", "slope")] <- 0
its_series[["sicily_quasi_harm2_slope"]] <- data.frame(
  model = "sicily_quasi_harm2_slope", time = sicily$time, observed = sic$aces,
  fitted = unname(fitted(f4)),
  counterfactual = unname(exp(drop(Xcf %*% coef(f4))) * sic$stdpop),
  pearson_resid = unname(residuals(f4, "pearson")))

## (5) Lopez Bernal's model4 coding: I(time - 36):smokban (slope term = 1 at month 37)
sic_b <- sic; sic_b$slope <- sic_b$post * (sicily$time - (t1 - 1))
f <- glm(aces ~ post + trend + slope + sin1 + cos1 + sin2 + cos2 + offset(log(stdpop)),
         family = quasipoisson, data = sic_b, control = glm.control(epsilon = 1e-12, maxit = 100))
add_its("sicily_bernal_model4", f, vcov(f), "quasipoisson", d_end_sic + 1)

## (6) Poisson step change with Newey-West SEs, lag 3
f <- glm(aces ~ post + trend + offset(log(stdpop)), family = poisson, data = sic,
         control = glm.control(epsilon = 1e-12, maxit = 100))
V <- NeweyWest(f, lag = 3, prewhite = FALSE, adjust = TRUE)
add_its("sicily_poisson_nw3", f, V, "poisson", d_end_sic, hac_lag = 3)

## (7) quasi-Poisson + harmonics + slope, Newey-West lag 2 (scale cancels in the sandwich)
V <- NeweyWest(f4, lag = 2, prewhite = FALSE, adjust = TRUE)
add_its("sicily_quasi_harm2_slope_nw2", f4, V, "quasipoisson", d_end_sic, hac_lag = 2)

## (8) negative binomial (NB2, MASS::glm.nb: theta by ML, SEs at fixed theta)
## (glm.nb's outer theta/beta alternation stalls at epsilon 1e-12; 1e-10 converges, and
##  the Newton iteration for theta then agrees with a direct profile-likelihood
##  maximisation to ~2e-7 relative in theta and ~1e-9 in the coefficients)
f <- glm.nb(aces ~ post + trend + slope + offset(log(stdpop)), data = sic,
            control = glm.control(epsilon = 1e-10, maxit = 100))
add_its("sicily_negbin_slope", f, vcov(f), "negbin", d_end_sic,
        theta = f$theta, theta_se = f$SE.theta)

## (9) Poisson step change without an offset (counts, not rates)
f <- glm(aces ~ post + trend, family = poisson, data = sic,
         control = glm.control(epsilon = 1e-12, maxit = 100))
add_its("sicily_poisson_nooffset", f, vcov(f), "poisson", d_end_sic)

## ---- simulated monthly series with dates ------------------------------------
dates <- as.Date(sim_its$month)
tau <- 12L * as.integer(format(dates, "%Y")) + as.integer(format(dates, "%m"))
tau1 <- min(tau[sim_its$post == 1])
si <- data.frame(count = sim_its$count, population = sim_its$population,
                 post = sim_its$post, trend = tau - tau1)
si$slope <- si$post * si$trend
si <- add_harmonics(si, tau, 1, 12)
d_end_si <- max(tau) - tau1

## (10) negative binomial + slope + 1 harmonic pair + population offset
fnb <- glm.nb(count ~ post + trend + slope + sin1 + cos1 + offset(log(population)), data = si,
              control = glm.control(epsilon = 1e-10, maxit = 100))
add_its("sim_negbin_harm1_slope", fnb, vcov(fnb), "negbin", d_end_si,
        theta = fnb$theta, theta_se = fnb$SE.theta)

## (11) the same NB fit with Newey-West SEs, lag 4
V <- NeweyWest(fnb, lag = 4, prewhite = FALSE, adjust = TRUE)
add_its("sim_negbin_harm1_slope_nw4", fnb, V, "negbin", d_end_si, hac_lag = 4,
        theta = fnb$theta, theta_se = fnb$SE.theta)

## (12) quasi-Poisson + slope + 1 harmonic pair + offset
f <- glm(count ~ post + trend + slope + sin1 + cos1 + offset(log(population)),
         family = quasipoisson, data = si, control = glm.control(epsilon = 1e-12, maxit = 100))
add_its("sim_quasi_harm1_slope", f, vcov(f), "quasipoisson", d_end_si)

its_coef <- do.call(rbind, its_coef)
its_fit_info <- do.call(rbind, its_fit_info)
its_series <- do.call(rbind, its_series)

## =============================================================================
## 3. Difference in differences
## =============================================================================

did <- sim_did
did$treated_post <- did$treated * did$post
G <- length(unique(did$area))
CL <- did$area

## Wald test of the coefficients named `terms` with covariance V; reference F(q, df2)
## (statistic W/q) when df2 is finite, chi-squared(q) (statistic W) otherwise.
wald <- function(b, V, terms, df2) {
  bb <- b[terms]; W <- drop(t(bb) %*% solve(V[terms, terms, drop = FALSE], bb))
  q <- length(terms)
  if (is.finite(df2)) c(statistic = W / q, df = q, df2 = df2, p = pf(W / q, q, df2, lower.tail = FALSE))
  else c(statistic = W, df = q, df2 = Inf, p = pchisq(W, q, lower.tail = FALSE))
}

## In evalkit: did(group = "treated", treated = 1, ...); the terms treated and
## treated_post are `group` and `did` of DiDResult.table, whose estimate/se/lower/upper are
## coef/se and the limits on the model scale; for poisson the estimate/lower/upper written
## here (exp scale) are its `rr`/`rr_lower`/`rr_upper`.
did_coef <- list(); did_tests <- list(); did_info <- list()
add_did <- function(model, fit, V, df_inf, ratio) {
  b <- coef(fit); se <- sqrt(diag(V))
  q <- if (is.finite(df_inf)) qt(0.975, df_inf) else z975
  stat <- b / se
  p <- if (is.finite(df_inf)) 2 * pt(-abs(stat), df_inf) else 2 * pnorm(-abs(stat))
  tr <- if (ratio) exp else identity
  did_coef[[model]] <<- data.frame(model = model, term = names(b), coef = unname(b),
                                   se = unname(se), estimate = tr(unname(b)),
                                   lower = tr(unname(b - q * se)), upper = tr(unname(b + q * se)),
                                   p = unname(p))
  did_info[[model]] <<- data.frame(model = model, n = nobs(fit), k = length(b),
                                   df_inference = df_inf)
}

lmfit <- function(formula, data) lm(formula, data = data)
pois <- function(formula, data) glm(formula, family = poisson, data = data,
                                    control = glm.control(epsilon = 1e-12, maxit = 100))

## (1) 2x2 gaussian, CR1 by area, t(G-1)
f <- lmfit(y ~ treated + post + treated_post, did)
add_did("gauss_2x2_cluster", f, vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
        G - 1, FALSE)
## (2) 2x2 gaussian, HC1 (no cluster), t(n-k)
add_did("gauss_2x2_hc1", f, vcovHC(f, type = "HC1"), f$df.residual, FALSE)
## (3) gaussian with month fixed effects, CR1 by area
did$fmonth <- factor(did$month)
f <- lmfit(y ~ treated + fmonth + treated_post, did)
add_did("gauss_timefe_cluster", f, vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
        G - 1, FALSE)
## (4) Poisson 2x2 with population offset, CR1 by area, t(G-1)
f <- pois(count ~ treated + post + treated_post + offset(log(population)), did)
add_did("pois_2x2_cluster", f, vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
        G - 1, TRUE)
## (5) Poisson with month fixed effects + offset, CR1 by area
f <- pois(count ~ treated + fmonth + treated_post + offset(log(population)), did)
add_did("pois_timefe_cluster", f, vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
        G - 1, TRUE)
## (6) Poisson 2x2 with offset, HC1 (no cluster), normal reference
f <- pois(count ~ treated + post + treated_post + offset(log(population)), did)
add_did("pois_2x2_hc1", f, vcovHC(f, type = "HC1"), Inf, TRUE)

## ---- pre-trend tests (pre-period rows only) ----------------------------------
pre <- did[did$post == 0, ]
pre$fmonth <- factor(pre$month)
pre$treated_time <- pre$treated * (pre$month - mean(pre$month))
## lead dummies treated x 1[month == m] for pre months other than the last (5)
lead_terms <- character(0)
for (m in sort(unique(pre$month))) if (m != max(pre$month)) {
  nm <- paste0("lead_", m); pre[[nm]] <- pre$treated * (pre$month == m); lead_terms <- c(lead_terms, nm)
}
Gp <- length(unique(pre$area))
CL <- pre$area
add_test <- function(model, test, w) {
  did_tests[[paste(model, test)]] <<- data.frame(model = model, test = test,
    statistic = unname(w["statistic"]), df = unname(w["df"]), df2 = unname(w["df2"]),
    p = unname(w["p"]))
}
## gaussian, linear differential trend, CR1 by area: F(1, G-1)
f <- lmfit(y ~ treated + fmonth + treated_time, pre)
add_test("gauss", "linear", wald(coef(f), vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
                                 "treated_time", Gp - 1))
## gaussian, event-study leads, CR1 by area: F(4, G-1)
f <- lmfit(as.formula(paste("y ~ treated + fmonth +", paste(lead_terms, collapse = " + "))), pre)
add_test("gauss", "leads", wald(coef(f), vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
                                lead_terms, Gp - 1))
## Poisson with offset, linear and leads, CR1 by area
f <- pois(count ~ treated + fmonth + treated_time + offset(log(population)), pre)
add_test("pois", "linear", wald(coef(f), vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
                                "treated_time", Gp - 1))
f <- pois(as.formula(paste("count ~ treated + fmonth + offset(log(population)) +",
                           paste(lead_terms, collapse = " + "))), pre)
add_test("pois", "leads", wald(coef(f), vcovCL(f, cluster = CL, type = "HC1", cadjust = TRUE),
                               lead_terms, Gp - 1))
## gaussian, linear, no cluster (HC1): F(1, n-k)
f <- lmfit(y ~ treated + fmonth + treated_time, pre)
add_test("gauss_hc1", "linear", wald(coef(f), vcovHC(f, type = "HC1"), "treated_time",
                                     f$df.residual))

did_coef <- do.call(rbind, did_coef)
did_tests <- do.call(rbind, did_tests)
did_info <- do.call(rbind, did_info)

## =============================================================================
## 4. Write everything
## =============================================================================
write_full(its_coef,     "timeseries_its_coef.csv")
write_full(its_fit_info, "timeseries_its_fit.csv")
write_full(its_series,   "timeseries_its_series.csv")
write_full(did_coef,     "timeseries_did_coef.csv")
write_full(did_info,     "timeseries_did_fit.csv")
write_full(did_tests,    "timeseries_did_pretrend.csv")

writeLines(c(R.version.string,
             paste0("MASS ", as.character(packageVersion("MASS"))),
             paste0("sandwich ", as.character(packageVersion("sandwich")))),
           file.path(out_dir, "timeseries_versions.txt"))
cat("wrote timeseries_versions.txt\n")
