// Package predictive is the pure controller of predictive dialing (draft).
package predictive
