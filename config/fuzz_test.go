package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"fanzha/config"
)

// FuzzLoad: any configuration file loads into a valid configuration or is
// refused with an error; never a panic, never an invalid configuration.
func FuzzLoad(f *testing.F) {
	f.Add("web:\n  addr: 127.0.0.1:9090\n")
	f.Add("schedule:\n  quiet_hours: 22:00-07:00\nquiz:\n  questions: 5\n")
	f.Add("campaign:\n  targets: {\"2026-11\": 60}\n")
	f.Add(":\n- [")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, yaml string) {
		path := filepath.Join(dir, "fanzha.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path, func(string) (string, bool) { return "", false })
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("loaded an invalid configuration: %v", verr)
			}
		}
	})
}
