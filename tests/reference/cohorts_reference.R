# Reference values for evalkit.compare_cohorts (tests/test_cohort_comparison.py).
# Run from the repository root: Rscript tests/reference/cohorts_reference.R
# Writes tests/reference/data/cohorts_sim.csv (the data, simulated here with R's RNG) and
# tests/reference/expected/cohorts_*.csv (17 significant digits).
#
# Model part: glm(reoffended ~ age + prior_offences + sex + area, family = binomial) fitted on
# the "before" cohort (R's treatment contrasts; area is a factor whose levels are given in the
# order north, south, east, so "north" is the reference, as a pandas Categorical with that
# category order). Expected rate of the "after" cohort: mean(predict(fit, after, "response")).
# Its delta-method variance g' V g with g = colMeans(p (1 - p) X) (Flanders & Rhodes 1987).
set.seed(20261130)
n <- 3000
period <- rep(c("before", "after"), each = n / 2)
age <- round(18 + rgamma(n, shape = 2.5, scale = 6))
prior <- rnbinom(n, size = 2, mu = 8)
sex <- ifelse(runif(n) < 0.12, "F", "M")
area <- factor(sample(c("north", "south", "east"), n, replace = TRUE),
               levels = c("north", "south", "east"))
lp <- -0.4 - 0.03 * (age - 30) + 0.08 * prior - 0.3 * (sex == "F") +
  c(north = 0, south = 0.25, east = -0.2)[as.character(area)] - 0.25 * (period == "after")
reoffended <- rbinom(n, 1, plogis(lp))
sim <- data.frame(person = sprintf("C%05d", seq_len(n)), cohort_period = period, age = age,
                  prior_offences = prior, sex = sex, area = as.character(area),
                  reoffended = reoffended)
write.csv(sim, "tests/reference/data/cohorts_sim.csv", row.names = FALSE)

before <- subset(sim, cohort_period == "before")
after <- subset(sim, cohort_period == "after")
before$area <- factor(before$area, levels = c("north", "south", "east"))
after$area <- factor(after$area, levels = c("north", "south", "east"))
fit <- glm(reoffended ~ age + prior_offences + sex + area, family = binomial, data = before,
           control = glm.control(epsilon = 1e-14, maxit = 100))
V <- vcov(fit)
X1 <- model.matrix(~ age + prior_offences + sex + area, data = after)
p1 <- as.vector(plogis(X1 %*% coef(fit)))
expected <- mean(p1)
g <- colMeans(p1 * (1 - p1) * X1)
var_e <- as.numeric(t(g) %*% V %*% g)
observed <- mean(after$reoffended)
var_o <- observed * (1 - observed) / nrow(after)

coefs <- data.frame(term = names(coef(fit)), estimate = unname(coef(fit)),
                    se = unname(sqrt(diag(V))),
                    statistic = unname(coef(fit) / sqrt(diag(V))),
                    p = unname(2 * pnorm(-abs(coef(fit) / sqrt(diag(V))))))
# R names the indicators sexM, areasouth, areaeast; evalkit names them sex[M], area[south]...
coefs$term <- c("(Intercept)", "age", "prior_offences", "sex[M]", "area[south]", "area[east]")
write.csv(format(coefs, digits = 17), "tests/reference/expected/cohorts_coef.csv",
          row.names = FALSE, quote = FALSE)
summary_values <- data.frame(
  quantity = c("observed", "expected", "var_observed", "var_expected", "adjusted_difference",
               "se_adjusted_difference", "adjusted_ratio", "se_log_ratio"),
  value = c(observed, expected, var_o, var_e, observed - expected, sqrt(var_o + var_e),
            observed / expected, sqrt(var_o / observed^2 + var_e / expected^2)))
write.csv(format(summary_values, digits = 17), "tests/reference/expected/cohorts_summary.csv",
          row.names = FALSE, quote = FALSE)
