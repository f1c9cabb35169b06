// Command authredirect is the Lambda function behind the chat authentication HTTP API: the chat
// page sends the sign-in popup through POST /auth/start (a binding cookie), Amazon Cognito
// redirects it back to GET /auth/callback, the page confirms the sign-in with the chat window (or
// relies on the cookie) and POSTs it back, and the function then calls
// UpdateParticipantAuthentication (logic in shared/authredirect). With AUTH_REDIRECT_LISTEN set
// it serves the same endpoint over plain HTTP instead, for local runs.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-connect/switchboard/shared/authredirect"
	"github.com/switchboard-connect/switchboard/shared/awsclient"
)

func main() {
	h, log := awsclient.Main("auth redirect", authredirect.FromEnv)
	if addr := os.Getenv(authredirect.EnvListen); addr != "" {
		log.Error("auth redirect: server stopped", "error", authredirect.ServeLocally(addr, h, log))
		os.Exit(1)
	}
	lambda.Start(h.HandleAPIGateway)
}
