package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// JSON is the schema for definitions files, as published for editors.
//
//go:embed definitions.schema.json
var JSON []byte

// URL is the schema's $id.
const URL = "https://warren.dev/schema/definitions.schema.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(URL, bytes.NewReader(JSON)); err != nil {
		return nil, err
	}
	return c.Compile(URL)
})

// Validate checks a decoded document (maps, slices, strings, json.Number,
// bools and nils, as definitions' decoders produce) against the schema. It
// returns one Diagnostic per problem, with Pointer set and no file or
// position: the caller knows where the value came from.
func Validate(doc any) Diagnostics {
	s, err := compiled()
	if err != nil {
		// The schema is embedded and tested; failing to compile is a bug.
		panic(fmt.Sprintf("schema: embedded schema does not compile: %v", err))
	}
	err = s.Validate(doc)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return Diagnostics{{Severity: Error, Code: ESchema, Message: err.Error()}}
	}
	var out Diagnostics
	seen := map[string]bool{}
	collect(ve, &out, seen)
	return out
}

// collect flattens a validation error tree into its leaves. Where a oneOf
// fails, the branches' own complaints are mostly noise ("expected object, but
// got string" for every alternative), so the oneOf is reported once instead.
func collect(ve *jsonschema.ValidationError, out *Diagnostics, seen map[string]bool) {
	if strings.HasSuffix(ve.KeywordLocation, "/oneOf") || len(ve.Causes) == 0 {
		d := Diagnostic{Pointer: ve.InstanceLocation, Severity: Error}
		d.Code, d.Message = classify(ve)
		key := d.Pointer + "\x00" + d.Message
		if !seen[key] {
			seen[key] = true
			*out = append(*out, d)
		}
		return
	}
	for _, c := range ve.Causes {
		collect(c, out, seen)
	}
}

func classify(ve *jsonschema.ValidationError) (Code, string) {
	kw := ve.KeywordLocation[strings.LastIndexByte(ve.KeywordLocation, '/')+1:]
	msg := ve.Message
	switch kw {
	case "type":
		return EType, msg
	case "required":
		return ERequired, msg
	case "oneOf":
		return EType, oneOfMessage(ve)
	case "enum", "const", "minimum", "maximum", "minLength", "maxLength", "pattern", "format", "minItems", "maxItems":
		return EValue, msg
	case "additionalProperties":
		return EValue, msg
	}
	return ESchema, msg
}

// oneOfMessage explains a failed oneOf by what the alternatives are.
func oneOfMessage(ve *jsonschema.ValidationError) string {
	switch {
	case strings.HasSuffix(ve.AbsoluteKeywordLocation, "/secret/oneOf"):
		return `expected a password string, {"env": "NAME"} or {"file": "PATH"}`
	case strings.HasSuffix(ve.AbsoluteKeywordLocation, "/tags/oneOf"):
		return "expected a list of tags or a comma-separated string"
	}
	return ve.Message
}

// Properties returns the property names the schema lists for a definition in
// $defs ("user", "vhost", …), or for the top level when def is "". The
// loaders use it to tell known fields from unknown ones, so that the schema
// is the one list of what warren understands.
func Properties(def string) []string {
	return properties()[def]
}

var properties = sync.OnceValue(func() map[string][]string {
	var raw struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSON, &raw); err != nil {
		panic(fmt.Sprintf("schema: embedded schema is not JSON: %v", err))
	}
	keys := func(m map[string]json.RawMessage) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	out := map[string][]string{"": keys(raw.Properties)}
	for name, d := range raw.Defs {
		if d.Properties != nil {
			out[name] = keys(d.Properties)
		}
	}
	return out
})
