package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"kith/internal/clinical"
)

// envFloat reads a number from the environment, or def.
func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

// loadSubsidyRules reads the guardian subsidy's conditions from a JSON file
// shaped as clinical.SubsidyRules.
func loadSubsidyRules(path string) (clinical.SubsidyRules, error) {
	var r clinical.SubsidyRules
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	for _, t := range r.NeglectTriggers {
		if !clinical.EmergencyTrigger(t).Valid() {
			return r, fmt.Errorf("%s: neglect_triggers: %q is no emergency trigger", path, t)
		}
	}
	if r.MinReachedFollowUps < 0 {
		return r, fmt.Errorf("%s: min_reached_follow_ups must not be negative", path)
	}
	return r, nil
}
