package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Severity says whether a Diagnostic stops a command (Error) or only informs
// (Warning). --strict turns every Warning into an Error.
type Severity int

const (
	Warning Severity = iota
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Pos is a place in a file. Line and Col start at 1; Col counts characters
// (not bytes). The zero Pos means "no position known".
type Pos struct {
	Line, Col int
}

// Diagnostic is one problem that a user can fix, pointing into their file.
// Pointer is an RFC 6901 JSON pointer into the document as it was written
// ("" for the whole document).
type Diagnostic struct {
	File     string
	Pos      Pos
	Pointer  string
	Severity Severity
	Code     Code
	Message  string
	// Also is another place the message refers to, such as the first
	// definition of an object defined twice. Nil when there is none.
	Also *Location
}

// Location is a place in a file, named by position and JSON pointer.
type Location struct {
	File    string
	Pos     Pos
	Pointer string
}

func (l Location) String() string {
	s := l.File
	if l.Pos.Line > 0 {
		s += fmt.Sprintf(":%d:%d", l.Pos.Line, l.Pos.Col)
	}
	if l.Pointer != "" {
		if s != "" {
			s += " "
		}
		s += l.Pointer
	}
	return s
}

// String formats d as "file:line:col: /pointer: message [CODE]".
func (d Diagnostic) String() string { return string(d.AppendText(nil)) }

// AppendText appends the diagnostic as String writes it to b: a caller
// printing many reuses one buffer rather than making a string of each.
func (d Diagnostic) AppendText(b []byte) []byte {
	if d.File != "" {
		b = append(b, d.File...)
		if d.Pos.Line > 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(d.Pos.Line), 10)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(d.Pos.Col), 10)
		}
		b = append(b, ": "...)
	}
	if d.Pointer != "" {
		b = append(b, d.Pointer...)
		b = append(b, ": "...)
	}
	b = append(b, d.Message...)
	if d.Also != nil {
		b = fmt.Appendf(b, " (also at %s)", d.Also)
	}
	b = append(b, " ["...)
	b = append(b, d.Code...)
	return append(b, ']')
}

// Diagnostics is a list of problems, usually from several files.
type Diagnostics []Diagnostic

// Sort orders the list by file, position, pointer, code and message, so that
// output is stable whatever order the checks ran in.
func (ds Diagnostics) Sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Pointer, b.Pointer),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// HasErrors reports whether any Diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Count returns the number of errors and warnings.
func (ds Diagnostics) Count() (errors, warnings int) {
	for _, d := range ds {
		if d.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// Strict returns a copy of ds with every Warning raised to an Error.
func (ds Diagnostics) Strict() Diagnostics {
	out := slices.Clone(ds)
	for i := range out {
		out[i].Severity = Error
	}
	return out
}

// Error makes a Diagnostics usable as an error; it lists every entry.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// EscapePointerToken escapes one reference token of a JSON pointer.
func EscapePointerToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// SplitPointer splits a JSON pointer into its unescaped reference tokens.
func SplitPointer(p string) []string {
	if p == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		if strings.Contains(s, "~") {
			parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
		}
	}
	return parts
}
