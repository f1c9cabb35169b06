// Package authredirect holds the sample requests the auth redirect function
// (functions/authredirect) accepts: API Gateway HTTP API (payload 2.0) events for
// GET /auth/callback. See README.md; authredirect_test.go decodes every sample and runs it
// through the handler.
package authredirect
