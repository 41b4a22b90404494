## =============================================================================
## jdl_reference.R -- R reference values for evalkit.jdl (the Justice Data Lab
## outcome set: reoffending rate, frequency, days to first proven reoffence)
## =============================================================================
##
## What it does
##   1. Simulates a small programme / comparison cohort (fixed seed) shaped like
##      evalkit's Cohort.data -- group, reoffended (0/1), n_reoffences (>= 1
##      exactly for reoffenders), time (days to first proven reoffence for
##      reoffenders, 365 otherwise) -- plus matched-set columns: every programme
##      person is a set (subclass 1..150); 150 comparison people are matched 1:1,
##      100 more are second controls in sets 1..100 (weight 0.5 each in those
##      sets), and 10 are unmatched (weight 0, subclass NA).
##      Written to tests/reference/data/jdl_sim.csv and re-read.
##   2. Writes tests/reference/expected/jdl_expected.csv, one row per
##      (case, outcome):
##        case "welch":    t.test(y ~ group, var.equal = FALSE) on every row --
##                         the rate on the 0/1 indicator (what the JDL reports),
##                         the frequency, and days among reoffenders.
##        case "newcombe": the rate difference with Newcombe's (1998) hybrid
##                         score interval (method 10) built from the Wilson
##                         limits of prop.test(x, n, correct = FALSE), and the
##                         p-value of prop.test(c(x1, x0), c(n1, n0),
##                         correct = FALSE) (Pearson's chi-squared test).
##        case "cluster":  rows with weight > 0; lm(y ~ programme, weights =
##                         weight) with sandwich::vcovCL(fit, cluster =
##                         ~subclass) (type HC1: G/(G-1) * (N-1)/(N-K)); normal
##                         interval coef +/- qnorm(0.975) * se and two-sided
##                         normal p-value. programme/comparison are weighted
##                         means. days: reoffenders among those rows.
##        case "hc1":      the same regression with sandwich::vcovHC(fit,
##                         type = "HC1") (weights, no clusters).
##        case "newcombe_example": Newcombe's (1998) first worked example,
##                         56/70 against 48/80, with the same construction as
##                         "newcombe" (published limits 0.0524 to 0.3339).
##
## How to run (from the repository root; needs base R and sandwich):
##
##     Rscript tests/reference/jdl_reference.R
##
## The Python tests never call R. Numbers are written with sprintf("%.17g").
## Versions: expected/jdl_versions.txt.
##
## In evalkit: jdl_outcomes(df, group = "group", treated = "programme") (the other label,
## "comparison", is the comparison group); the column `difference` written here is the
## column `estimate` of JDLResult.table.
## =============================================================================

suppressPackageStartupMessages(library(sandwich))

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
options(stringsAsFactors = FALSE)

ref_dir  <- file.path("tests", "reference")
data_dir <- file.path(ref_dir, "data")
out_dir  <- file.path(ref_dir, "expected")
if (!dir.exists(data_dir)) stop("run from the repository root: ", data_dir, " not found")

fmt <- function(x) {
  s <- ifelse(is.na(x), "NA", sprintf("%.17g", x))
  whole <- is.finite(x) & x == round(x) & abs(x) < 1e15
  s[whole] <- sprintf("%.0f", x[whole])
  s
}

write_csv17 <- function(df, path) {
  out <- df
  for (nm in names(df)) {
    x <- df[[nm]]
    out[[nm]] <- if (is.numeric(x)) fmt(x) else ifelse(is.na(x), "NA", paste0("\"", x, "\""))
  }
  con <- file(path, open = "w")
  writeLines(paste(names(out), collapse = ","), con)
  writeLines(do.call(paste, c(unname(as.list(out)), sep = ",")), con)
  close(con)
}

## ---- 1. data ------------------------------------------------------------------
set.seed(20240701)
n1 <- 150
n0 <- 260
group <- c(rep("programme", n1), rep("comparison", n0))
p <- ifelse(group == "programme", 0.36, 0.47)
reoffended <- rbinom(n1 + n0, 1, p)
n_reoffences <- ifelse(reoffended == 1, 1 + rnbinom(n1 + n0, size = 1.2, mu = 1.6), 0)
time <- ifelse(reoffended == 1,
               pmin(365, ceiling(rexp(n1 + n0, ifelse(group == "programme", 1 / 140, 1 / 115)))),
               365)
subclass <- c(seq_len(n1), seq_len(n1), seq_len(100), rep(NA, 10))
weight <- c(rep(1, n1), ifelse(seq_len(n1) <= 100, 0.5, 1), rep(0.5, 100), rep(0, 10))
sim <- data.frame(person_id = sprintf("J%04d", seq_len(n1 + n0)), group = group,
                  reoffended = as.integer(reoffended),
                  n_reoffences = as.integer(n_reoffences), time = as.integer(time),
                  weight = weight, subclass = subclass)
write_csv17(sim, file.path(data_dir, "jdl_sim.csv"))
sim <- read.csv(file.path(data_dir, "jdl_sim.csv"))
sim$prog <- as.integer(sim$group == "programme")
sim$group <- factor(sim$group, levels = c("programme", "comparison"))

rows <- list()
add <- function(case, outcome, programme, comparison, difference, lower, upper, p) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, outcome = outcome, programme = programme, comparison = comparison,
    difference = difference, lower = lower, upper = upper, p = p)
}

## ---- 2a. Welch t-tests (the JDL's test) ----------------------------------------
welch <- function(y, g, outcome) {
  tt <- t.test(y ~ g, var.equal = FALSE)           # programme - comparison (level order)
  add("welch", outcome, unname(tt$estimate[1]), unname(tt$estimate[2]),
      unname(tt$estimate[1] - tt$estimate[2]), tt$conf.int[1], tt$conf.int[2], tt$p.value)
}
welch(sim$reoffended, sim$group, "rate")
welch(sim$n_reoffences, sim$group, "frequency")
r <- sim$reoffended == 1
welch(sim$time[r], sim$group[r], "days_to_first")

## ---- 2b. Newcombe's hybrid score interval ----------------------------------------
newcombe <- function(x1, m1, x0, m0, case) {
  p1 <- x1 / m1; p0 <- x0 / m0
  w1 <- prop.test(x1, m1, correct = FALSE)$conf.int   # Wilson score interval
  w0 <- prop.test(x0, m0, correct = FALSE)$conf.int
  d <- p1 - p0
  lower <- d - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2)
  upper <- d + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2)
  pv <- prop.test(c(x1, x0), c(m1, m0), correct = FALSE)$p.value
  add(case, "rate", p1, p0, d, lower, upper, pv)
}
newcombe(sum(sim$reoffended[sim$prog == 1]), n1, sum(sim$reoffended[sim$prog == 0]), n0,
         "newcombe")
newcombe(56, 70, 48, 80, "newcombe_example")

## ---- 2c. weighted regression, cluster-robust and HC1 ---------------------------
robust <- function(d, y, outcome) {
  d$y <- y
  fit <- lm(y ~ prog, data = d, weights = weight)
  est <- unname(coef(fit)["prog"])
  se_cl <- sqrt(vcovCL(fit, cluster = ~subclass)["prog", "prog"])
  se_hc <- sqrt(vcovHC(fit, type = "HC1")["prog", "prog"])
  m1 <- weighted.mean(y[d$prog == 1], d$weight[d$prog == 1])
  m0 <- weighted.mean(y[d$prog == 0], d$weight[d$prog == 0])
  z <- qnorm(0.975)
  add("cluster", outcome, m1, m0, est, est - z * se_cl, est + z * se_cl,
      2 * pnorm(-abs(est / se_cl)))
  add("hc1", outcome, m1, m0, est, est - z * se_hc, est + z * se_hc,
      2 * pnorm(-abs(est / se_hc)))
}
used <- sim[sim$weight > 0, ]
robust(used, used$reoffended, "rate")
robust(used, used$n_reoffences, "frequency")
ur <- used[used$reoffended == 1, ]
robust(ur, ur$time, "days_to_first")

out <- do.call(rbind, rows)
write_csv17(out, file.path(out_dir, "jdl_expected.csv"))
writeLines(c(R.version.string, paste("sandwich", as.character(packageVersion("sandwich")))),
           file.path(out_dir, "jdl_versions.txt"))
