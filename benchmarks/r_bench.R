# R side of the pipeline benchmark (benchmarks/pipeline.py calls it; not a test).
#
#   Rscript benchmarks/r_bench.R data.csv reps step covariates max_seconds [pairs.tsv]
#
# data.csv: person_id (text), time, event, programme (0/1) and the covariates, one row per
# person. step: coxph, coxph_cluster or matchit. covariates: comma-separated. The model is
# fitted up to `reps` times (once only if the first run takes longer than max_seconds), timed
# inside R with system.time (reading the CSV is not timed), and printed as one tab-separated
# line per run: step, elapsed seconds, CPU seconds (user + system), and after the last run the
# coefficients (coxph), the robust standard errors (coxph_cluster) or the number of matched
# pairs (matchit, whose pairs go to pairs.tsv as treated and control person_id, and its
# propensity scores to pairs.tsv.ps).
#
# The models are evalkit's: Surv(time, event) ~ programme + the ten covariates, Efron ties;
# coxph_cluster clusters on person_id (type does not matter: integer ids take as long, and so
# does robust = TRUE); matchit is 1:1 nearest neighbour without replacement on a logistic
# propensity score of the ten covariates (MatchIt's defaults: largest distance first).
args <- commandArgs(trailingOnly = TRUE)
need <- c("survival", "data.table", if (args[3] == "matchit") "MatchIt")
missing <- need[!vapply(need, requireNamespace, logical(1), quietly = TRUE)]
if (length(missing)) {
  # an R without these packages: say so on one line and stop cleanly
  cat(sprintf("skipped\t0\t0\tR packages not installed: %s\n", paste(missing, collapse = ", ")))
  quit(save = "no", status = 0)
}
suppressPackageStartupMessages({
  library(survival)
  library(data.table)
})
d <- fread(args[1], showProgress = FALSE, colClasses = list(character = "person_id"))
reps <- as.integer(args[2])
step <- args[3]
covs <- strsplit(args[4], ",")[[1]]
max_seconds <- as.numeric(args[5])
pairs_path <- if (length(args) >= 6) args[6] else ""
emit <- function(tm, extra = "") {
  cat(sprintf("%s\t%.4f\t%.4f\t%s\n", step, tm[["elapsed"]],
              tm[["user.self"]] + tm[["sys.self"]], extra))
  flush(stdout())
}
version <- function(pkg) {
  if (requireNamespace(pkg, quietly = TRUE)) as.character(packageVersion(pkg)) else "not installed"
}
cat(sprintf("versions\t0\t0\tR %s; survival %s; MatchIt %s; data.table %s\n",
            paste(R.version$major, R.version$minor, sep = "."), version("survival"),
            version("MatchIt"), version("data.table")))
f_cox <- as.formula(paste("Surv(time, event) ~", paste(c("programme", covs), collapse = " + ")))
f_ps <- as.formula(paste("programme ~", paste(covs, collapse = " + ")))
if (step == "matchit") suppressPackageStartupMessages(library(MatchIt))
for (i in seq_len(reps)) {
  gc()
  if (step == "coxph") {
    tm <- system.time(fit <- coxph(f_cox, data = d, ties = "efron"))
    out <- paste(format(coef(fit), digits = 17), collapse = ",")
  } else if (step == "coxph_cluster") {
    tm <- system.time(fit <- coxph(f_cox, data = d, ties = "efron", cluster = person_id))
    out <- paste(format(sqrt(diag(fit$var)), digits = 17), collapse = ",")
  } else if (step == "matchit") {
    tm <- system.time(m <- matchit(f_ps, data = d, method = "nearest", distance = "glm"))
    mm <- m$match.matrix[, 1]
    ok <- !is.na(mm)
    out <- as.character(sum(ok))
    if (nzchar(pairs_path)) {
      fwrite(data.table(treated = d$person_id[as.integer(names(mm)[ok])],
                        control = d$person_id[as.integer(mm[ok])]),
             pairs_path, sep = "\t")
      # R's propensity scores, for the exact greedy reference in pipeline.py
      fwrite(data.table(person_id = d$person_id, ps = sprintf("%.17g", m$distance)),
             paste0(pairs_path, ".ps"), sep = "\t")
    }
  } else {
    stop("unknown step ", step)
  }
  last <- i == reps || tm[["elapsed"]] > max_seconds
  emit(tm, if (last) out else "")
  if (last) break
}
