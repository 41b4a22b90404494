# Reference values for evalkit.proportions and evalkit.power.
#
# Run from the repository root:   Rscript tests/reference/proportions_reference.R
# Needs base R only (stats). Writes tests/reference/expected/proportions_*.csv.
#
# These are INDEPENDENT implementations of the methods, written from the papers, not ports of
# the Python code:
#   * score intervals (Miettinen-Nurminen, Mee, Koopman, MN odds ratio): the restricted MLE of
#     the nuisance parameter is found NUMERICALLY (root of the profile score equation with
#     uniroot), where evalkit uses the closed-form cubic / quadratic; the confidence limits are
#     found with uniroot (Brent) where evalkit uses bisection;
#   * the MN odds-ratio restricted MLE is solved on the logit scale (evalkit: Cornfield's
#     quadratic in the expected count);
#   * Wilson limits come from stats::prop.test(correct = FALSE);
#   * exact odds-ratio limits invert the noncentral hypergeometric tails built from
#     stats::dhyper; fisher.test's own (uniroot-tolerance 1e-4) values are recorded beside them;
#   * p-values of the score tests are checked against stats::chisq.test(correct = FALSE);
#   * sample sizes are checked against stats::power.prop.test, and the minimum detectable rate
#     is found by uniroot on the power function (evalkit inverts the sample-size formula).
# Doubles are written with sprintf("%.17g") so that they round-trip exactly.

options(warn = 1)
out_dir <- file.path("tests", "reference", "expected")
stopifnot(dir.exists(out_dir))

fmt <- function(x) ifelse(is.na(x) & !is.nan(x), "NA",
                   ifelse(is.nan(x), "NaN",
                   ifelse(is.infinite(x), ifelse(x > 0, "Inf", "-Inf"), sprintf("%.17g", x))))
write_ref <- function(df, name) {
  out <- df
  for (k in names(out)) if (is.numeric(out[[k]])) out[[k]] <- fmt(out[[k]])
  write.csv(out, file.path(out_dir, name), row.names = FALSE, quote = TRUE)
}

zq <- function(conf) qnorm(1 - (1 - conf) / 2)
BIG <- 1e100   # stand-in for +-Inf inside uniroot so that Brent's arithmetic stays finite
cap <- function(v) pmin(pmax(v, -BIG), BIG)
term <- function(k, p) if (k == 0) 0 else k / p   # k/p, with 0 where the term is absent

# score numerator / sqrt(variance), 0 when the numerator is 0
signed <- function(num, var) {
  if (num == 0) return(0)
  if (var <= 0) return(sign(num) * Inf)
  num / sqrt(var)
}

# --------------------------------------------------------------------------------------------
# Wilson interval for one proportion, via prop.test (R's own implementation)
wilson <- function(x, n, conf) {
  ci <- suppressWarnings(prop.test(x, n, conf.level = conf, correct = FALSE)$conf.int)
  c(if (x == 0) 0 else ci[1], if (x == n) 1 else ci[2])
}

# --------------------------------------------------------------------------------------------
# Rate difference: restricted MLE of p0 under p1 - p0 = delta, by maximising the binomial
# log-likelihood numerically (root of its derivative, which decreases in p0).
rd_mle <- function(x1, n1, x0, n0, delta) {
  lo <- max(0, -delta); hi <- min(1, 1 - delta)
  if (hi - lo <= 0) return(c(lo + delta, lo))   # delta = -1 or 1: a single feasible point
  s <- function(p0) {
    p1 <- p0 + delta
    term(x1, p1) - term(n1 - x1, 1 - p1) + term(x0, p0) - term(n0 - x0, 1 - p0)
  }
  slo <- s(lo); shi <- s(hi)
  if (slo <= 0) return(c(lo + delta, lo))
  if (shi >= 0) return(c(hi + delta, hi))
  p0 <- uniroot(function(q) cap(s(q)), c(lo, hi), f.lower = cap(slo), f.upper = cap(shi),
                tol = 1e-15, maxiter = 10000)$root
  c(p0 + delta, p0)
}

rd_z <- function(x1, n1, x0, n0, delta, mn) {
  p <- rd_mle(x1, n1, x0, n0, delta)
  v <- p[1] * (1 - p[1]) / n1 + p[2] * (1 - p[2]) / n0
  if (mn) v <- v * (n1 + n0) / (n1 + n0 - 1)
  signed(x1 / n1 - x0 / n0 - delta, v)
}

rd_score_ci <- function(x1, n1, x0, n0, conf, mn) {
  z <- zq(conf); est <- x1 / n1 - x0 / n0
  f <- function(d, target) cap(rd_z(x1, n1, x0, n0, d, mn) - target)
  lower <- if (est == -1) -1 else
    uniroot(f, c(-1, est), target = z, tol = 1e-14, maxiter = 10000)$root
  upper <- if (est == 1) 1 else
    uniroot(f, c(est, 1), target = -z, tol = 1e-14, maxiter = 10000)$root
  z0 <- rd_z(x1, n1, x0, n0, 0, mn)
  c(lower, upper, 2 * pnorm(-abs(z0)))
}

rd_all <- function(x1, n1, x0, n0, conf) {
  z <- zq(conf); p1 <- x1 / n1; p0 <- x0 / n0; est <- p1 - p0
  w1 <- wilson(x1, n1, conf); w0 <- wilson(x0, n0, conf)
  newc <- c(est - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2),
            est + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2), NA)
  q1 <- (x1 + 1) / (n1 + 2); q0 <- (x0 + 1) / (n0 + 2)
  h <- z * sqrt(q1 * (1 - q1) / (n1 + 2) + q0 * (1 - q0) / (n0 + 2))
  ac <- c(q1 - q0 - h, q1 - q0 + h, NA)
  se <- sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
  wald <- c(est - z * se, est + z * se, 2 * pnorm(-abs(signed(est, se^2))))
  res <- rbind(newcombe = newc,
               `miettinen-nurminen` = rd_score_ci(x1, n1, x0, n0, conf, TRUE),
               mee = rd_score_ci(x1, n1, x0, n0, conf, FALSE),
               `agresti-caffo` = ac, wald = wald)
  res[, 1:2] <- pmin(pmax(res[, 1:2], -1), 1)
  data.frame(method = rownames(res), estimate = est, lower = res[, 1], upper = res[, 2],
             p = res[, 3], stringsAsFactors = FALSE)
}

# --------------------------------------------------------------------------------------------
# Rate ratio: restricted MLE of p0 under p1 = theta * p0, numerically.
rr_mle <- function(x1, n1, x0, n0, theta) {
  hi <- min(1, 1 / theta)
  s <- function(p0) {
    term(x1 + x0, p0) - theta * term(n1 - x1, 1 - theta * p0) - term(n0 - x0, 1 - p0)
  }
  if (x1 + x0 == 0) return(c(0, 0))
  shi <- s(hi)
  if (shi >= 0) return(c(theta * hi, hi))
  p0 <- uniroot(function(q) cap(s(q)), c(0, hi), f.lower = BIG, f.upper = cap(shi),
                tol = 1e-300, maxiter = 10000)$root
  # tol = 1e-300 leaves uniroot's own relative stopping rule (about 4 eps |root|) in charge,
  # which matters when p0 is tiny (huge theta)
  c(theta * p0, p0)
}

rr_z <- function(x1, n1, x0, n0, theta, mn) {
  p <- rr_mle(x1, n1, x0, n0, theta)
  v <- p[1] * (1 - p[1]) / n1 + theta^2 * p[2] * (1 - p[2]) / n0
  if (mn) v <- v * (n1 + n0) / (n1 + n0 - 1)
  signed(x1 / n1 - theta * x0 / n0, v)
}

# limits of a ratio whose score statistic decreases in theta; search on the log scale
ratio_limits <- function(zfun, z, start, lower_zero, upper_inf) {
  f <- function(t, target) cap(zfun(exp(t)) - target)
  lower <- if (lower_zero) 0 else exp(uniroot(f, start + c(-1, 1), target = z,
                                              extendInt = "downX", tol = 1e-13,
                                              maxiter = 10000)$root)
  upper <- if (upper_inf) Inf else exp(uniroot(f, start + c(-1, 1), target = -z,
                                               extendInt = "downX", tol = 1e-13,
                                               maxiter = 10000)$root)
  c(lower, upper)
}

rr_all <- function(x1, n1, x0, n0, conf) {
  z <- zq(conf); p1 <- x1 / n1; p0 <- x0 / n0; est <- p1 / p0
  start <- log((x1 + 0.5) / (n1 + 0.5)) - log((x0 + 0.5) / (n0 + 0.5))
  score <- function(mn) {
    lim <- ratio_limits(function(th) rr_z(x1, n1, x0, n0, th, mn), z, start, x1 == 0, x0 == 0)
    c(lim, 2 * pnorm(-abs(rr_z(x1, n1, x0, n0, 1, mn))))
  }
  if (x1 == 0 || x0 == 0) {
    katz <- c(0, Inf, NA)
  } else {
    se <- sqrt(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0)
    katz <- c(exp(log(est) - z * se), exp(log(est) + z * se),
              if (se == 0) 1 else 2 * pnorm(-abs(log(est) / se)))
  }
  res <- rbind(koopman = score(FALSE), `miettinen-nurminen` = score(TRUE), katz = katz)
  data.frame(method = rownames(res), estimate = est, lower = res[, 1], upper = res[, 2],
             p = res[, 3], stringsAsFactors = FALSE)
}

# --------------------------------------------------------------------------------------------
# Odds ratio, Miettinen-Nurminen: restricted MLE under OR = psi solved on the logit scale:
# logit p0 = a, logit p1 = a + log(psi); the score equation in a is x1 + x0 = n1 p1 + n0 p0.
or_z <- function(x1, n1, x0, n0, psi) {
  m <- x1 + x0; N <- n1 + n0
  g <- function(a) m - n1 * plogis(a + log(psi)) - n0 * plogis(a)
  a <- uniroot(g, c(-1, 1), extendInt = "downX", tol = 1e-14, maxiter = 10000)$root
  p1 <- plogis(a + log(psi)); q1 <- plogis(-(a + log(psi)))
  p0 <- plogis(a); q0 <- plogis(-a)
  info <- (1 / (n1 * p1 * q1) + 1 / (n0 * p0 * q0)) * (N - 1) / N
  signed(x1 - n1 * p1, 1 / info)
}

# Exact (conditional) odds ratio: noncentral hypergeometric from dhyper, on the log scale.
exact_or <- function(x1, n1, x0, n0, conf) {
  m <- x1 + x0; lo <- max(0, m - n0); hi <- min(n1, m); k <- lo:hi
  if (lo == hi) return(c(NaN, 0, Inf, 1))
  base <- dhyper(k, n1, n0, m, log = TRUE)
  dens <- function(t) { w <- base + k * t; w <- w - max(w); e <- exp(w); e / sum(e) }
  alpha <- (1 - conf) / 2
  sol <- function(f) uniroot(f, c(-1, 1), extendInt = "yes", tol = 1e-13, maxiter = 10000)$root
  est <- if (x1 == lo) 0 else if (x1 == hi) Inf else exp(sol(function(t) sum(k * dens(t)) - x1))
  lower <- if (x1 == lo) 0 else exp(sol(function(t) sum(dens(t)[k >= x1]) - alpha))
  upper <- if (x1 == hi) Inf else exp(sol(function(t) sum(dens(t)[k <= x1]) - alpha))
  d0 <- dhyper(k, n1, n0, m)
  p <- min(1, sum(d0[d0 <= d0[x1 - lo + 1] * (1 + 1e-7)]))
  c(est, lower, upper, p)
}

or_all <- function(x1, n1, x0, n0, conf) {
  z <- zq(conf); a <- x1; b <- n1 - x1; cc <- x0; d <- n0 - x0
  est <- (a * d) / (b * cc)
  undefined <- (a + cc == 0) || (b + d == 0)
  if (undefined) {
    mn <- c(0, Inf, 1)
  } else {
    start <- log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (cc + 0.5)))
    mn <- c(ratio_limits(function(psi) or_z(x1, n1, x0, n0, psi), z, start,
                         a == 0 || d == 0, b == 0 || cc == 0),
            2 * pnorm(-abs(or_z(x1, n1, x0, n0, 1))))
  }
  if (min(a, b, cc, d) == 0) {
    woolf <- c(0, Inf, NA)
  } else {
    se <- sqrt(1 / a + 1 / b + 1 / cc + 1 / d)
    woolf <- c(exp(log(est) - z * se), exp(log(est) + z * se), 2 * pnorm(-abs(log(est) / se)))
  }
  ex <- exact_or(x1, n1, x0, n0, conf)
  data.frame(method = c("miettinen-nurminen", "woolf", "exact"),
             estimate = c(est, est, ex[1]), lower = c(mn[1], woolf[1], ex[2]),
             upper = c(mn[2], woolf[2], ex[3]), p = c(mn[3], woolf[3], ex[4]),
             stringsAsFactors = FALSE)
}

# --------------------------------------------------------------------------------------------
# Paired difference, Newcombe (1998b) method 10, and the Wald interval.
paired_all <- function(a, b, cc, d, conf) {
  n <- a + b + cc + d; z <- zq(conf)
  p1 <- (a + b) / n; p2 <- (a + cc) / n; est <- (b - cc) / n
  w1 <- wilson(a + b, n, conf); w2 <- wilson(a + cc, n, conf)
  margins <- (a + b) * (cc + d) * (a + cc) * (b + d)
  cross <- a * d - b * cc
  num <- if (cross > n / 2) cross - n / 2 else if (cross >= 0) 0 else cross
  phi <- if (margins > 0) num / sqrt(margins) else 0
  dl1 <- p1 - w1[1]; du1 <- w1[2] - p1; dl2 <- p2 - w2[1]; du2 <- w2[2] - p2
  newc <- c(est - sqrt(dl1^2 - 2 * phi * dl1 * du2 + du2^2),
            est + sqrt(du1^2 - 2 * phi * du1 * dl2 + dl2^2), NA)
  se <- sqrt((b + cc) - (b - cc)^2 / n) / n
  wald <- c(est - z * se, est + z * se, 2 * pnorm(-abs(signed(est, se^2))))
  res <- rbind(newcombe = newc, wald = wald)
  res[, 1:2] <- pmin(pmax(res[, 1:2], -1), 1)
  data.frame(method = rownames(res), estimate = est, lower = res[, 1], upper = res[, 2],
             p = res[, 3], stringsAsFactors = FALSE)
}

# --------------------------------------------------------------------------------------------
# The grid of tables: every table for some small sample sizes, the boundaries and a few
# interior points for larger ones, and the published examples.
grid <- list()
add <- function(x1, n1, x0, n0, conf) grid[[length(grid) + 1]] <<-
  data.frame(x1 = x1, n1 = n1, x0 = x0, n0 = n0, conf_level = conf)
for (nn in list(c(1, 3), c(7, 13), c(10, 10))) {
  g <- expand.grid(x1 = 0:nn[1], x0 = 0:nn[2])
  add(g$x1, nn[1], g$x0, nn[2], 0.95)
}
for (nn in list(c(70, 80), c(56, 29), c(40, 80), c(34, 34), c(1000, 1500), c(5, 2000))) {
  xs1 <- unique(c(0, 1, floor(nn[1] / 3), nn[1] - 1, nn[1]))
  xs0 <- unique(c(0, 1, floor(nn[2] / 2), nn[2] - 1, nn[2]))
  g <- expand.grid(x1 = xs1, x0 = xs0)
  add(g$x1, nn[1], g$x0, nn[2], 0.95)
}
g <- expand.grid(x1 = c(0, 3, 10), x0 = c(0, 4, 10))
for (conf in c(0.8, 0.99)) add(g$x1, 10, g$x0, 10, conf)
add(c(56, 9, 6, 5, 0, 0, 10, 10, 7, 0, 36, 9, 24, 29, 7, 28),
    c(70, 10, 7, 56, 10, 10, 10, 10, 34, 16, 40, 13, 73, 55, 18, 51),
    c(48, 3, 2, 0, 0, 0, 0, 0, 1, 15, 16, 4, 53, 11, 1, 71),
    c(80, 10, 7, 29, 20, 10, 20, 10, 34, 72, 80, 14, 65, 11, 18, 230), 0.95)
add(c(56, 36, 9), c(70, 40, 13), c(48, 16, 4), c(80, 80, 14), 0.9)
tables <- unique(do.call(rbind, grid))
rownames(tables) <- NULL
cat("tables:", nrow(tables), "\n")

run <- function(fun) {
  out <- lapply(seq_len(nrow(tables)), function(i) {
    t <- tables[i, ]
    r <- fun(t$x1, t$n1, t$x0, t$n0, t$conf_level)
    cbind(t[rep(1, nrow(r)), ], r)
  })
  res <- do.call(rbind, out); rownames(res) <- NULL; res
}

t0 <- proc.time()
rd <- run(rd_all); cat("rate difference done", (proc.time() - t0)[3], "s\n")
rr <- run(rr_all); cat("rate ratio done", (proc.time() - t0)[3], "s\n")
or <- run(or_all); cat("odds ratio done", (proc.time() - t0)[3], "s\n")

# Checks against R's own functions --------------------------------------------------------
pearson_p <- function(x1, n1, x0, n0, n_minus_1) {
  tab <- matrix(c(x1, n1 - x1, x0, n0 - x0), 2, byrow = TRUE)
  if (x1 + x0 == 0 || x1 + x0 == n1 + n0) return(1)
  st <- suppressWarnings(chisq.test(tab, correct = FALSE)$statistic)
  N <- n1 + n0
  if (n_minus_1) st <- st * (N - 1) / N
  unname(pchisq(st, 1, lower.tail = FALSE))
}
for (i in seq_len(nrow(rd))) {
  r <- rd[i, ]
  if (r$method %in% c("mee", "miettinen-nurminen")) {
    stopifnot(abs(r$p - pearson_p(r$x1, r$n1, r$x0, r$n0, r$method != "mee")) < 1e-9)
  }
  if (r$method == "wald" && r$x1 + r$x0 > 0 && r$x1 + r$x0 < r$n1 + r$n0) {
    ci <- suppressWarnings(prop.test(c(r$x1, r$x0), c(r$n1, r$n0), conf.level = r$conf_level,
                                     correct = FALSE)$conf.int)
    stopifnot(max(abs(ci - c(r$lower, r$upper))) < 1e-12)
  }
}
for (i in seq_len(nrow(rr))) {
  r <- rr[i, ]
  if (r$method != "katz") {
    stopifnot(abs(r$p - pearson_p(r$x1, r$n1, r$x0, r$n0, r$method != "koopman")) < 1e-9)
  }
}
fisher_lower <- fisher_upper <- fisher_estimate <- fisher_p <- rep(NA_real_, nrow(or))
for (i in which(or$method == "exact")) {
  r <- or[i, ]
  f <- fisher.test(matrix(c(r$x1, r$n1 - r$x1, r$x0, r$n0 - r$x0), 2, byrow = TRUE),
                   conf.level = r$conf_level)
  fisher_lower[i] <- f$conf.int[1]; fisher_upper[i] <- f$conf.int[2]
  fisher_estimate[i] <- f$estimate; fisher_p[i] <- f$p.value
  stopifnot(abs(f$p.value - r$p) < 1e-12)
}
or$fisher_test_estimate <- fisher_estimate
or$fisher_test_lower <- fisher_lower
or$fisher_test_upper <- fisher_upper
or$fisher_test_p <- fisher_p

write_ref(rd, "proportions_rd.csv")
write_ref(rr, "proportions_rr.csv")
write_ref(or, "proportions_or.csv")

# Paired tables -------------------------------------------------------------------------------
pg <- expand.grid(a = 0:3, b = 0:3, cc = 0:3, d = 0:3)
pg <- pg[rowSums(pg) > 0, ]
pg <- rbind(pg, data.frame(a = c(36, 18, 20, 53, 0, 1, 7, 8, 14, 0, 40),
                           b = c(12, 12, 12, 0, 30, 1, 25, 3, 5, 0, 0),
                           cc = c(2, 2, 2, 0, 0, 7, 2, 1, 0, 0, 60),
                           d = c(0, 18, 16, 1, 0, 12, 68, 2, 22, 50, 0)))
pg$conf_level <- 0.95
pg <- rbind(pg, data.frame(a = c(36, 18), b = c(12, 12), cc = c(2, 2), d = c(0, 18),
                           conf_level = c(0.9, 0.99)))
paired <- do.call(rbind, lapply(seq_len(nrow(pg)), function(i) {
  t <- pg[i, ]
  r <- paired_all(t$a, t$b, t$cc, t$d, t$conf_level)
  cbind(data.frame(both = t$a, first_only = t$b, second_only = t$cc, neither = t$d,
                   conf_level = t$conf_level)[rep(1, nrow(r)), ], r)
}))
rownames(paired) <- NULL
write_ref(paired, "proportions_paired.csv")

# --------------------------------------------------------------------------------------------
# Power and sample size.
# Fleiss, Levin & Paik (2003), eq. 4.14: group 1 (rate p1) has n people, group 0 (rate p0)
# has r * n; pbar = (p1 + r p0) / (1 + r).
fleiss_n <- function(p1, p0, alpha, power, r) {
  pbar <- (p1 + r * p0) / (1 + r)
  ((qnorm(1 - alpha / 2) * sqrt((r + 1) * pbar * (1 - pbar)) +
      qnorm(power) * sqrt(r * p1 * (1 - p1) + p0 * (1 - p0)))^2) / (r * (p1 - p0)^2)
}
# continuity correction (Fleiss, Tytun & Ury 1980)
fleiss_n_cc <- function(p1, p0, alpha, power, r) {
  n <- fleiss_n(p1, p0, alpha, power, r)
  n / 4 * (1 + sqrt(1 + 2 * (r + 1) / (n * r * abs(p1 - p0))))^2
}
# power of the same test for n (group 1) and r * n (group 0)
fleiss_power <- function(p1, p0, alpha, n, r) {
  d <- abs(p1 - p0)
  pbar <- (p1 + r * p0) / (1 + r)
  pnorm((d * sqrt(r * n) - qnorm(1 - alpha / 2) * sqrt((r + 1) * pbar * (1 - pbar))) /
          sqrt(r * p1 * (1 - p1) + p0 * (1 - p0)))
}

# column ratio = n0 / n1, evalkit's argument `allocation` of n_two_proportions
pw <- expand.grid(p1 = c(0.25, 0.10, 0.35, 0.40), p0 = c(0.51, 0.20, 0.45),
                  alpha = c(0.05, 0.01), power = c(0.8, 0.9), ratio = c(1, 2, 0.5))
pw <- pw[pw$p1 < pw$p0, ]
pw$n <- with(pw, fleiss_n(p1, p0, alpha, power, ratio))
pw$n_continuity <- with(pw, fleiss_n_cc(p1, p0, alpha, power, ratio))
pw$power_prop_test_n <- NA_real_
pw$power_prop_test_strict_n <- NA_real_
for (i in which(pw$ratio == 1)) {
  pw$power_prop_test_n[i] <- power.prop.test(p1 = pw$p1[i], p2 = pw$p0[i],
                                             sig.level = pw$alpha[i], power = pw$power[i],
                                             tol = 1e-12)$n
  pw$power_prop_test_strict_n[i] <- power.prop.test(p1 = pw$p1[i], p2 = pw$p0[i],
                                                    sig.level = pw$alpha[i],
                                                    power = pw$power[i], strict = TRUE,
                                                    tol = 1e-12)$n
}
# power.prop.test (strict = FALSE) uses the same normal approximation as Fleiss eq. 4.14 with
# equal groups; say so loudly if that ever stops being true.
eq <- which(pw$ratio == 1)
stopifnot(max(abs(pw$power_prop_test_n[eq] / pw$n[eq] - 1)) < 1e-8)
write_ref(pw, "proportions_power_n.csv")

# Minimum detectable rate below p0 for given group sizes: uniroot on the power function
# (no continuity correction) and on the continuity-corrected sample-size formula.
md <- expand.grid(p0 = c(0.45, 0.25, 0.6), n1 = c(100, 240, 1000), n0 = c(100, 480, 5000),
                  alpha = c(0.05, 0.1), power = c(0.8, 0.9))
md$mde <- NA_real_
md$mde_continuity <- NA_real_
for (i in seq_len(nrow(md))) {
  r <- md$n0[i] / md$n1[i]
  f <- function(p1) fleiss_power(p1, md$p0[i], md$alpha[i], md$n1[i], r) - md$power[i]
  if (f(0) > 0) md$mde[i] <- uniroot(f, c(0, md$p0[i]), tol = 1e-14)$root
  g <- function(p1) fleiss_n_cc(p1, md$p0[i], md$alpha[i], md$power[i], r) - md$n1[i]
  if (g(1e-12) < 0) md$mde_continuity[i] <- uniroot(g, c(1e-12, md$p0[i] - 1e-12),
                                                    tol = 1e-14)$root
}
write_ref(md, "proportions_mde.csv")

# Events for the log-rank test: Schoenfeld (1983) and Freedman (1982); ratio = people in the
# comparison group per person in the programme group (evalkit's argument `allocation`), hr =
# hazard ratio programme / comparison.
ev <- expand.grid(hr = c(0.7, 0.5, 0.8, 1.25), alpha = c(0.05, 0.01), power = c(0.8, 0.9),
                  ratio = c(1, 2, 0.5))
zz <- with(ev, (qnorm(1 - alpha / 2) + qnorm(power))^2)
ev$schoenfeld <- with(ev, zz * (1 + ratio)^2 / (ratio * log(hr)^2))
ev$freedman <- with(ev, zz * (ratio + hr)^2 / (ratio * (1 - hr)^2))
write_ref(ev, "proportions_events.csv")

vers <- data.frame(item = c("R", "stats"),
                   version = c(R.version.string, as.character(packageVersion("stats"))))
write.csv(vers, file.path(out_dir, "proportions_versions.csv"), row.names = FALSE)
cat("done in", (proc.time() - t0)[3], "s\n")
