package authredirect

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// EnvListen, when set (for example 127.0.0.1:8766), makes the function's binary serve the
// endpoint over plain HTTP instead of running as a Lambda, for local runs against connectsim and
// dynalite (AWS_ENDPOINT_URL_CONNECT, AWS_ENDPOINT_URL_DYNAMODB).
const EnvListen = "AUTH_REDIRECT_LISTEN"

// ServeLocally serves the callback and the start endpoint on addr until the server fails. GET
// serves the page, POST completes; the handler answers other methods with 405.
func ServeLocally(addr string, h *Handler, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("/auth/callback", h)
	mux.Handle(StartPath, h)
	log.Info("auth redirect: serving locally", "url", "http://"+addr+"/auth/callback")
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
