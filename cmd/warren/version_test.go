package main

import (
	"runtime/debug"
	"testing"
)

// TestReadBuildInfo: the linker flags win; without them, the module version
// of "go install …@vX" and the VCS revision the toolchain recorded.
func TestReadBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	defer func(v, c string) { version, commit = v, c }(version, commit)

	version, commit = "dev", ""
	if got := readBuildInfo(bi, true); got.Version != "v1.2.3" || got.Commit != "abc123-dirty" {
		t.Errorf("from the toolchain: %+v", got)
	}
	version, commit = "v0.9.0-3-gdeadbee", "deadbeefcafe"
	if got := readBuildInfo(bi, true); got.Version != "v0.9.0-3-gdeadbee" || got.Commit != "deadbeefcafe" {
		t.Errorf("from the linker flags: %+v", got)
	}
	version, commit = "dev", ""
	if got := readBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true); got.Version != "dev" || got.Commit != "unknown" {
		t.Errorf("nothing recorded: %+v", got)
	}
	if got := readBuildInfo(nil, false); got.Version != "dev" || got.Commit != "unknown" {
		t.Errorf("no build info: %+v", got)
	}
}
