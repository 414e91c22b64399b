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

// compiled holds the library's compiled schemas: "" for the whole document,
// and each definition of $defs by name.
var compiled = sync.OnceValue(func() map[string]*jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(URL, bytes.NewReader(JSON)); err != nil {
		panic(fmt.Sprintf("schema: embedded schema does not load: %v", err))
	}
	out := map[string]*jsonschema.Schema{}
	var raw struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(JSON, &raw); err != nil {
		panic(fmt.Sprintf("schema: embedded schema is not JSON: %v", err))
	}
	names := []string{""}
	for name := range raw.Defs {
		names = append(names, name)
	}
	for _, name := range names {
		url := URL
		if name != "" {
			url += "#/$defs/" + name
		}
		s, err := c.Compile(url)
		if err != nil {
			// The schema is embedded and tested; failing to compile is a bug.
			panic(fmt.Sprintf("schema: embedded schema does not compile: %v", err))
		}
		out[name] = s
	}
	return out
})

// Validate checks a decoded document (maps, slices, strings, json.Number,
// bools and nils, as definitions' decoders produce) against the schema. It
// returns one Diagnostic per problem, with Pointer set and no file or
// position: the caller knows where the value came from.
func Validate(doc any) Diagnostics { return ValidateDef("", doc) }

// ValidateDef checks a value against one definition of the schema's $defs
// ("user", "queue", …; "" for the whole document). Loaders use it to check
// each object of a large file as they decode it, without holding the whole
// file's values at once. Pointers are relative to v.
func ValidateDef(def string, v any) Diagnostics {
	if fastValid(def, v) {
		return nil
	}
	s, ok := compiled()[def]
	if !ok {
		panic(fmt.Sprintf("schema: no $defs/%s", def))
	}
	err := s.Validate(v)
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

// collect flattens a validation error tree into its leaves, one per
// pointer and message.
func collect(ve *jsonschema.ValidationError, out *Diagnostics, seen map[string]bool) {
	if len(ve.Causes) == 0 {
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
	// Say what the alternatives are rather than which keyword failed.
	switch {
	case strings.Contains(ve.AbsoluteKeywordLocation, "#/$defs/secret/"):
		return EType, `expected a password string, {"env": "NAME"} or {"file": "PATH"}`
	case strings.HasSuffix(ve.AbsoluteKeywordLocation, "#/$defs/tags/type"):
		return EType, "expected a list of tags or a comma-separated string"
	}
	switch kw {
	case "type":
		return EType, msg
	case "required":
		return ERequired, msg
	case "enum", "const", "minimum", "maximum", "minLength", "maxLength", "pattern", "format", "minItems", "maxItems":
		return EValue, msg
	case "additionalProperties":
		return EValue, msg
	}
	return ESchema, msg
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
