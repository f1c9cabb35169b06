package predictive

// ForecastForTest runs the forecast of a state with n new calls at p_person's point estimate
// (cfg.Z applies).
func ForecastForTest(s State, cfg Config, n int) (answers, abandoned float64) {
	est := s.Estimates
	pUp := WilsonUpper(est.PPerson*est.Dials, est.Dials, cfg.Z)
	return newForecast(s, cfg.ConnectThreshold, pUp, est.PMachine).run(n)
}
