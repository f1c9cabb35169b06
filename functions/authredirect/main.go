// Command authredirect is the Lambda function behind the chat authentication HTTP API: the chat
// page sends the sign-in popup through POST /auth/start (a binding cookie), Amazon Cognito
// redirects it back to GET /auth/callback, the page confirms the sign-in with the chat window (or
// relies on the cookie) and POSTs it back, and the function then calls
// UpdateParticipantAuthentication (logic in shared/authredirect).
//
// With AUTH_REDIRECT_LISTEN set (for example 127.0.0.1:8766) it serves the same endpoint over
// plain HTTP instead, for local runs against connectsim and dynalite (AWS_ENDPOINT_URL_CONNECT,
// AWS_ENDPOINT_URL_DYNAMODB).
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := build(context.Background(), log)
	if err != nil {
		log.Error("auth redirect: start-up failed", "error", err)
		os.Exit(1)
	}
	if addr := os.Getenv("AUTH_REDIRECT_LISTEN"); addr != "" {
		mux := http.NewServeMux()
		// GET serves the page, POST completes; the handler answers other methods with 405.
		mux.Handle("/auth/callback", h)
		mux.Handle(authredirect.StartPath, h)
		log.Info("auth redirect: serving locally", "url", "http://"+addr+"/auth/callback")
		srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Error("auth redirect: server stopped", "error", err)
			os.Exit(1)
		}
		return
	}
	lambda.Start(h.HandleAPIGateway)
}

// build reads the configuration and builds the clients once, before the first request
// (authredirect.FromEnv, as the local stack does).
func build(ctx context.Context, log *slog.Logger) (*authredirect.Handler, error) {
	awsCfg, err := awsclient.FromEnvironment(os.Getenv)
	if err != nil {
		// Name the function's own settings' problems too, not only the first.
		_, cerr := authredirect.ConfigFromEnv(os.Getenv)
		return nil, errors.Join(cerr, err)
	}
	return authredirect.FromEnv(awsclient.Wiring{Getenv: os.Getenv, AWS: awsCfg, Log: log})
}
