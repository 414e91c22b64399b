package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsLinks: every relative link in README.md and docs/*.md names a file
// of the repository, and every #fragment a heading of the page it points to
// (as GitHub makes a heading's id), so moving a section cannot leave a link
// behind.
func TestDocsLinks(t *testing.T) {
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "../../README.md")
	fence := regexp.MustCompile("(?s)```.*?```")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := fence.ReplaceAllString(string(data), "")
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			full := page
			if path != "" {
				full = filepath.Join(filepath.Dir(page), path)
			}
			if _, err := os.Stat(full); err != nil {
				t.Errorf("%s: link to %s: %v", filepath.Base(page), target, err)
				continue
			}
			if frag != "" && strings.HasSuffix(full, ".md") && !headingIDs(t, full)[frag] {
				t.Errorf("%s: link to %s: %s has no heading with that id", filepath.Base(page), target, filepath.Base(full))
			}
		}
	}
}

// headingIDs returns the ids GitHub gives a markdown page's headings.
func headingIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(string(data), "")
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(text, -1) {
		ids[anchor(strings.TrimSpace(m[1]))] = true // reference_test.go
	}
	return ids
}
