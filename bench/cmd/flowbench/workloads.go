package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard-connect/switchboard/local/connectsim"
	"github.com/switchboard-connect/switchboard/local/dynalitetest"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
)

// workload is what one function is measured on: the event each invocation carries, the
// environment the function reads, the Node.js handler it is compared with, and the check every
// answer must pass.
type workload struct {
	// what the report calls one invocation.
	what string
	// nodeDir is the default Node.js baseline folder; nodeHandler its _HANDLER.
	nodeDir, nodeHandler string
	// needsDynamo: the invocations reach DynamoDB (dynalite is started for them).
	needsDynamo bool
	// env is the function's own settings, beyond what Lambda sets.
	env func(e endpoints) []string
	// payload builds the event of every invocation.
	payload func(sim *connectsim.Sim) ([]byte, error)
	// check accepts or refuses one answer.
	check func(body []byte) error
}

// endpoints are the loopback services the functions are pointed at.
type endpoints struct{ connect, dynamo string }

// Sample contact IDs of events/contactflow/*.json, replaced by a contact connectsim knows.
const (
	sampleInitialContactID = "5f1b2c3d-4e5f-4a6b-8c7d-000000000001"
	sampleContactID        = "5f1b2c3d-4e5f-4a6b-8c7d-000000000002"
)

const campaignsTable = "bench-campaigns"

var workloads = map[string]workload{
	"contactflow": {
		what:    "`update` (events/contactflow/update.json, two attributes: one UpdateContactAttributes)",
		nodeDir: "bench/baselines/node", nodeHandler: "index.handler",
		env: func(e endpoints) []string {
			// An update never reaches DynamoDB.
			return []string{"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:1", "DO_NOT_CALL_TABLE=bench-do-not-call"}
		},
		payload: func(sim *connectsim.Sim) ([]byte, error) {
			c, err := sim.CreateContact(connectsim.NewContact{InstanceID: connectsim.DefaultInstanceID, CustomerNumber: "+12025550123"})
			if err != nil {
				return nil, err
			}
			raw, err := os.ReadFile(filepath.Join("events", "contactflow", "update.json"))
			if err != nil {
				return nil, err
			}
			return []byte(strings.NewReplacer(sampleInitialContactID, c.InitialContactID, sampleContactID, c.ID).Replace(string(raw))), nil
		},
		check: func(body []byte) error {
			var resp map[string]string
			if json.Unmarshal(body, &resp) != nil || resp["result"] != "ok" {
				return errors.New("want a flat map with result=ok")
			}
			return nil
		},
	},
	"authredirect": {
		what:    "GET /auth/callback (events/authredirect/callback.json: the query checked, the handshake page rendered; no AWS call)",
		nodeDir: "bench/baselines/node", nodeHandler: "authredirect.handler",
		env: func(e endpoints) []string {
			return []string{"INSTANCE_ID=" + connectsim.DefaultInstanceID, "CHAT_ORIGIN=https://chat.example.com",
				"AUTH_STATE_TABLE=bench-auth-states", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:1"}
		},
		payload: func(*connectsim.Sim) ([]byte, error) {
			return os.ReadFile(filepath.Join("events", "authredirect", "callback.json"))
		},
		check: func(body []byte) error {
			var resp struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       string            `json:"body"`
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				return err
			}
			csp := resp.Headers["Content-Security-Policy"] + resp.Headers["content-security-policy"]
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, `var chatOrigin = "https://chat.example.com"`) || !strings.Contains(csp, "script-src 'nonce-") {
				return fmt.Errorf("want 200 with the handshake page and its CSP, got %d", resp.StatusCode)
			}
			return nil
		},
	},
	"noop": {
		what:    "any event to a handler that does nothing (bench/cmd/noopfn, baselines/node/noop.mjs): the floor of the Runtime API exchange",
		nodeDir: "bench/baselines/node", nodeHandler: "noop.handler",
		env:     func(endpoints) []string { return nil },
		payload: func(*connectsim.Sim) ([]byte, error) { return []byte(`{"ping":1}`), nil },
		check: func(body []byte) error {
			if strings.TrimSpace(string(body)) != `{"result":"ok"}` {
				return errors.New(`want {"result":"ok"}`)
			}
			return nil
		},
	},
	"dialer": {
		what:    "an idle `Dialer Tick` (events/dialer/tick.json, no active campaign: lease PutItem, active-index Query, lease DeleteItem on dynalite)",
		nodeDir: "bench/baselines/node-dialer", nodeHandler: "dialer.handler", needsDynamo: true,
		env: func(e endpoints) []string {
			return []string{"AWS_ENDPOINT_URL_DYNAMODB=" + e.dynamo, "CAMPAIGNS_TABLE=" + campaignsTable,
				"DO_NOT_CALL_TABLE=bench-do-not-call", "RECIPIENTS_BUCKET=bench-recipients", "AWS_ENDPOINT_URL_S3=http://127.0.0.1:1"}
		},
		payload: func(*connectsim.Sim) ([]byte, error) {
			return os.ReadFile(filepath.Join("events", "dialer", "tick.json"))
		},
		check: func(body []byte) error {
			if strings.TrimSpace(string(body)) != "null" {
				return fmt.Errorf("want null (the tick succeeded), got %.200s", body)
			}
			return nil
		},
	},
}

// startDynamo runs dynalite with the campaigns table.
func startDynamo() (*dynalitetest.Server, error) {
	srv, err := dynalitetest.StartProcess()
	if err != nil {
		return nil, err
	}
	if _, err := srv.Client().CreateTable(context.Background(), campaignstore.CreateTableInput(campaignsTable)); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}
