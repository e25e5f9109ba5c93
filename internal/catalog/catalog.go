// Package catalog holds the lists forms offer to choose from instead of
// typing: common psychiatric drugs (configurable) and the ICD-10 codes of
// mental disorders (chapter F) and epilepsy (G40), in Chinese and English.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Drug is a drug name in both languages.
type Drug struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Name is the drug's name in lang ("zh-Hans" or "en").
func (d Drug) Name(lang string) string {
	if strings.HasPrefix(lang, "zh") && d.ZH != "" || d.EN == "" {
		return d.ZH
	}
	return d.EN
}

// Code is an ICD-10 code with its name in both languages.
type Code struct {
	Code string `json:"code"`
	ZH   string `json:"zh"`
	EN   string `json:"en"`
}

// Name is the code's name in lang.
func (c Code) Name(lang string) string {
	if strings.HasPrefix(lang, "zh") {
		return c.ZH
	}
	return c.EN
}

var (
	//go:embed drugs.json
	drugsJSON []byte
	//go:embed icd10.json
	icd10JSON []byte
)

// Drugs returns the built-in list of common antipsychotics, mood
// stabilisers and the drugs often given with them.
func Drugs() []Drug {
	d, err := parseDrugs(drugsJSON)
	if err != nil {
		panic(err) // embedded: a broken file fails every test
	}
	return d
}

// LoadDrugs reads a drug list from a JSON file of the shape of drugs.json:
// [{"zh": "利培酮", "en": "risperidone"}, …].
func LoadDrugs(path string) ([]Drug, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := parseDrugs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

func parseDrugs(b []byte) ([]Drug, error) {
	var d []Drug
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("catalog: drug list: %w", err)
	}
	for i, x := range d {
		if strings.TrimSpace(x.ZH) == "" && strings.TrimSpace(x.EN) == "" {
			return nil, fmt.Errorf("catalog: drug list: entry %d has no name", i+1)
		}
	}
	return d, nil
}

var icd10 = func() []Code {
	var c []Code
	if err := json.Unmarshal(icd10JSON, &c); err != nil {
		panic(err)
	}
	return c
}()

// ICD10 returns the ICD-10 codes forms offer.
func ICD10() []Code { return icd10 }
