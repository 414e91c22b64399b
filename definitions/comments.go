package definitions

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// HeaderComment returns the block of comment (and blank) lines a YAML file
// starts with, without its trailing blank lines. warren fmt keeps it: it
// usually holds the yaml-language-server schema line and a description.
func (f *File) HeaderComment() string {
	if f.Format != "yaml" {
		return ""
	}
	var lines []string
	for _, line := range strings.SplitAfter(string(f.bytes()), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			break
		}
		lines = append(lines, strings.TrimRight(line, "\r\n"))
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// InteriorComments reports whether a YAML file has comments other than its
// header: canonical formatting rebuilds the file from the model and cannot
// keep those.
func (f *File) InteriorComments() bool {
	if f.yroot == nil {
		return false
	}
	header := map[string]bool{}
	for _, line := range strings.Split(f.HeaderComment(), "\n") {
		header[strings.TrimSpace(line)] = true
	}
	var found bool
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
			for _, line := range strings.Split(c, "\n") {
				if t := strings.TrimSpace(line); t != "" && !header[t] {
					found = true
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(f.yroot)
	return found
}
