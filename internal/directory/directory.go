// Package directory holds the help a resident is shown with a screening
// result: hotline numbers and the services that serve each org unit. It is
// configured data, a JSON file (KITH_DIRECTORY); without one, the national
// hotlines built in here are shown. Kith copies it into an empty database,
// where the service network is then kept and edited (care.SeedDirectory).
package directory

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"kith/internal/clinical/instrument"
)

// Text is a text in English and Chinese.
type Text = instrument.Text

// Hotline is a number a resident can call.
type Hotline struct {
	Name   Text   `json:"name"`
	Number string `json:"number"`
	Hours  Text   `json:"hours"`
}

// Service is a place that helps: a community health centre, a district
// mental health hospital, a counselling room. Unit is the code of the org
// unit it serves; a resident of a community is shown the services of the
// community, or failing that of its street, or of its district.
type Service struct {
	Unit    string `json:"unit"`
	Kind    string `json:"kind,omitempty"` // such as hospital; community_health_centre if none
	Name    Text   `json:"name"`
	Address Text   `json:"address"`
	Phone   string `json:"phone"`
	Hours   Text   `json:"hours"`
	// Capacity and Offers are optional: places or people a week, and what
	// the service offers.
	Capacity int  `json:"capacity,omitempty"`
	Offers   Text `json:"offers,omitempty"`
}

// Directory is the configured help.
type Directory struct {
	Hotlines []Hotline `json:"hotlines"`
	Services []Service `json:"services"`
}

//go:embed national.json demo.json
var files embed.FS

// Default returns the built-in directory: the national hotlines only.
func Default() *Directory { return mustParse("national.json") }

// Demo returns the directory of the demo district (kith serve -demo).
func Demo() *Directory { return mustParse("demo.json") }

func mustParse(name string) *Directory {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	d, err := Parse(b)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", name, err))
	}
	return d
}

// Load reads a directory from a JSON file.
func Load(path string) (*Directory, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse reads a directory from JSON and checks it.
func Parse(b []byte) (*Directory, error) {
	var d Directory
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if len(d.Hotlines) == 0 {
		return nil, fmt.Errorf("at least one hotline is required")
	}
	for i, h := range d.Hotlines {
		if h.Number == "" || h.Name.EN == "" || h.Name.ZH == "" {
			return nil, fmt.Errorf("hotline %d needs a number and a name in English and Chinese", i+1)
		}
	}
	for i, s := range d.Services {
		if s.Unit == "" || s.Name.EN == "" || s.Name.ZH == "" || s.Phone == "" {
			return nil, fmt.Errorf("service %d needs a unit code, a name in English and Chinese, and a phone", i+1)
		}
	}
	return &d, nil
}

// Nearest returns the services that serve the org unit with this path
// (such as /D01/S01/C0101/): those of the deepest unit on the path that has
// any. An empty path gives none.
func (d *Directory) Nearest(path string) []Service {
	codes := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(codes) - 1; i >= 0; i-- {
		var out []Service
		for _, s := range d.Services {
			if codes[i] != "" && s.Unit == codes[i] {
				out = append(out, s)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}
