package contactflow

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string
	}{
		{"defaults", nil, DefaultConfig(), nil},
		{"empty values are defaults", map[string]string{EnvBudget: "", EnvErrorMode: " ", EnvDefaultCountry: ""}, DefaultConfig(), nil},
		{"all set", map[string]string{EnvBudget: "1500ms", EnvErrorMode: "FAIL", EnvDefaultCountry: "gb"},
			func() Config {
				c := DefaultConfig()
				c.Budget.Total, c.ErrorMode, c.DefaultCountry = 1500*time.Millisecond, ErrorModeFail, "GB"
				return c
			}(), nil},
		{"every problem reported", map[string]string{EnvBudget: "9s", EnvErrorMode: "panic", EnvDefaultCountry: "XX"}, Config{},
			[]string{"FLOW_BUDGET", "between", "ERROR_MODE", `"panic"`, "DEFAULT_COUNTRY", `"XX"`}},
		{"budget not a duration", map[string]string{EnvBudget: "3"}, Config{}, []string{"FLOW_BUDGET", "not a duration"}},
		{"budget at the longest", map[string]string{EnvBudget: "7s"},
			func() Config { c := DefaultConfig(); c.Budget.Total = 7 * time.Second; return c }(), nil},
		// Connect's 8 s include cold start and network: a budget must leave a second of them.
		{"budget of 8s", map[string]string{EnvBudget: "8s"}, Config{}, []string{"FLOW_BUDGET", "between 100ms and 7s"}},
		{"budget just over 7s", map[string]string{EnvBudget: "7001ms"}, Config{}, []string{"FLOW_BUDGET", "between 100ms and 7s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, config %+v", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ConfigFromEnv = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// The block's default timeout is 3 s: an unconfigured function answers within 2 s, so a flow
// author who keeps that default still gets an error_code when Connect is slow.
func TestTheDefaultBudgetLeavesHeadroomInTheBlocksDefaultTimeout(t *testing.T) {
	c, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Budget.Total != 2*time.Second {
		t.Errorf("default %s = %s, want 2s", EnvBudget, c.Budget.Total)
	}
}
