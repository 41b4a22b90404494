# Reference values for counting-process (start, stop] Cox models with a time-varying covariate
# (tests/test_cox_counting.py): engagement that starts some days after referral, as in DIVERT.
# Run from the repository root: Rscript tests/reference/cox_counting_reference.R
# Writes tests/reference/data/cox_counting.csv (simulated here with R's RNG) and
# tests/reference/expected/cox_counting_coef.csv / cox_counting_fit.csv / cox_counting_zph.csv
# (doubles written with sprintf("%.17g"), so they round-trip exactly).
suppressPackageStartupMessages(library(survival))
# doubles as sprintf("%.17g") (round-trip exact, no padding), missing values as NA
write_table <- function(rows, file) {
  tab <- do.call(rbind, rows)
  for (j in seq_along(tab)) {
    if (is.double(tab[[j]])) tab[[j]] <- ifelse(is.na(tab[[j]]), "NA", sprintf("%.17g", tab[[j]]))
  }
  write.csv(tab, file, row.names = FALSE, quote = FALSE)
}
set.seed(20261130)
n <- 600
age <- round(18 + rgamma(n, shape = 2.5, scale = 6))
prior <- rnbinom(n, size = 2, mu = 6)
area <- sample(c("north", "south", "east"), n, replace = TRUE)
# engagement starts 5 to 60 days after referral for 60% of people (whole days, so ties occur)
engage_day <- ifelse(runif(n) < 0.6, sample(5:60, n, replace = TRUE), NA)
# first proven reoffence: hazard 0.002/day, x exp(0.03 (age - 30)... ), halved while engaged
base <- 0.002 * exp(-0.02 * (age - 30) + 0.05 * prior)
u <- -log(runif(n))
t_pre <- u / base
event_time <- ifelse(!is.na(engage_day) & t_pre > engage_day,
                     engage_day + (u - base * engage_day) / (base * 0.5), t_pre)
event_time <- ceiling(event_time)  # whole days: ties, as in real extracts
follow <- 365
status <- as.integer(event_time <= follow)
stop_time <- pmin(event_time, follow)
# split at engagement: (0, engage] unengaged, (engage, stop] engaged
rows <- list()
for (i in seq_len(n)) {
  e <- engage_day[i]
  if (!is.na(e) && e < stop_time[i]) {
    rows[[length(rows) + 1]] <- data.frame(id = i, start = 0, stop = e, event = 0, engaged = 0)
    rows[[length(rows) + 1]] <- data.frame(id = i, start = e, stop = stop_time[i],
                                           event = status[i], engaged = 1)
  } else {
    rows[[length(rows) + 1]] <- data.frame(id = i, start = 0, stop = stop_time[i],
                                           event = status[i], engaged = 0)
  }
}
long <- do.call(rbind, rows)
long$age <- age[long$id]
long$prior <- prior[long$id]
long$area <- area[long$id]
# drawn after everything above, so the columns above do not depend on them:
# w = a non-integer person-level weight (as an inverse-probability weight), k = an integer
# frequency weight 1..3 per person
w_person <- round(runif(n, 0.5, 2), 6)
k_person <- as.numeric(sample(1:3, n, replace = TRUE))  # double: cox.zph needs it
long$w <- w_person[long$id]
long$k <- k_person[long$id]
long$id <- sprintf("D%04d", long$id)
write.csv(long, "tests/reference/data/cox_counting.csv", row.names = FALSE)
# delayed entry (left truncation): people who engaged enter the study at engagement, so their
# (0, engage] row is dropped and their follow-up starts at start > 0
late <- long[!(long$start == 0 & duplicated(long$id, fromLast = TRUE)), ]

models <- list(
  efron = coxph(Surv(start, stop, event) ~ engaged + age + prior, data = long, ties = "efron"),
  breslow = coxph(Surv(start, stop, event) ~ engaged + age + prior, data = long,
                  ties = "breslow"),
  robust = coxph(Surv(start, stop, event) ~ engaged + age + prior, data = long,
                 ties = "efron", cluster = id),
  strata = coxph(Surv(start, stop, event) ~ engaged + age + prior + strata(area), data = long,
                 ties = "efron"),
  breslow_robust = coxph(Surv(start, stop, event) ~ engaged + age + prior, data = long,
                         ties = "breslow", cluster = id),
  weighted = coxph(Surv(start, stop, event) ~ engaged + age + prior, data = long,
                   ties = "efron", weights = w, cluster = id),
  frequency = coxph(Surv(start, stop, event) ~ engaged + age + prior + strata(area),
                    data = long, ties = "efron", weights = k),
  delayed = coxph(Surv(start, stop, event) ~ engaged + age + prior, data = late,
                  ties = "efron")
)
# models whose cox.zph tables are written (robust models have the same test as their
# non-robust version: cox.zph does not use the variance of the coefficients)
zph_models <- c("efron", "breslow", "strata", "frequency", "delayed")
coef_rows <- list()
fit_rows <- list()
for (m in names(models)) {
  fit <- models[[m]]
  naive <- if (is.null(fit$naive.var)) fit$var else fit$naive.var
  robust_se <- if (is.null(fit$naive.var)) NA else sqrt(diag(fit$var))
  se <- sqrt(diag(fit$var))
  coef_rows[[m]] <- data.frame(model = m, term = names(coef(fit)), estimate = unname(coef(fit)),
                               se = sqrt(diag(naive)), robust_se = unname(robust_se),
                               statistic = unname(coef(fit) / se),
                               p = unname(2 * pnorm(-abs(coef(fit) / se))))
  fit_rows[[m]] <- data.frame(model = m, loglik0 = fit$loglik[1], loglik = fit$loglik[2],
                              n = fit$n, nevent = fit$nevent, iter = fit$iter,
                              score = unname(fit$score),
                              wald = unname(fit$wald.test),
                              concordance = unname(fit$concordance["concordance"]),
                              lr = 2 * diff(fit$loglik),
                              rscore = if (is.null(fit$rscore)) NA else unname(fit$rscore),
                              concordance_se = unname(fit$concordance["std"]),
                              concordant = unname(fit$concordance["concordant"]),
                              discordant = unname(fit$concordance["discordant"]),
                              tied_x = unname(fit$concordance["tied.x"]),
                              tied_y = unname(fit$concordance["tied.y"]),
                              tied_xy = unname(fit$concordance["tied.xy"]))
}
zph_rows <- list()
for (m in zph_models) {
  for (tr in c("km", "identity", "rank", "log")) {
    tab <- cox.zph(models[[m]], transform = tr)$table
    zph_rows[[paste(m, tr)]] <- data.frame(model = m, transform = tr, term = rownames(tab),
                                           chisq = tab[, "chisq"], df = tab[, "df"],
                                           p = tab[, "p"])
  }
}
write_table(coef_rows, "tests/reference/expected/cox_counting_coef.csv")
write_table(fit_rows, "tests/reference/expected/cox_counting_fit.csv")
write_table(zph_rows, "tests/reference/expected/cox_counting_zph.csv")
