package migrate

import (
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

func TestDefaultGuestNotMovedAdministratorsListed(t *testing.T) {
	salt := []byte{0x90, 0x8D, 0xC6, 0x0A}
	guestHash, err := definitions.HashPassword("guest", "rabbit_password_hashing_sha256", salt)
	if err != nil {
		t.Fatal(err)
	}
	guestMD5, _ := definitions.HashPassword("guest", "rabbit_password_hashing_md5", salt)
	other, _ := definitions.HashPassword("s3cret", "rabbit_password_hashing_sha256", salt)
	for _, tc := range []struct {
		name      string
		guest     definitions.User
		wantMoved bool
	}{
		{"default password", definitions.User{Name: "guest", PasswordHash: &guestHash, HashingAlgorithm: "rabbit_password_hashing_sha256"}, false},
		{"default password, md5, no algorithm named", definitions.User{Name: "guest", PasswordHash: &guestMD5}, false},
		{"changed password", definitions.User{Name: "guest", PasswordHash: &other, HashingAlgorithm: "rabbit_password_hashing_sha256"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.guest
			g.Tags = []string{"administrator"}
			ops := &definitions.User{Name: "ops", PasswordHash: &other, Tags: []string{"administrator"}}
			app := &definitions.User{Name: "app", PasswordHash: &other}
			old := &definitions.Document{
				Users:  []*definitions.User{&g, ops, app},
				Vhosts: []*definitions.Vhost{{Name: "/"}},
				Permissions: []*definitions.Permission{
					{User: "guest", Vhost: "/", Configure: ".*", Write: ".*", Read: ".*"},
					{User: "app", Vhost: "/", Configure: ".*", Write: ".*", Read: ".*"},
				},
				TopicPermissions: []*definitions.TopicPermission{{User: "guest", Vhost: "/", Exchange: "amq.topic", Write: ".*", Read: ".*"}},
			}
			res := Transform(old, Options{Version: "4.0", ActingUser: "admin"})
			moved := false
			for _, u := range res.Definitions.Users {
				moved = moved || u.Name == "guest"
			}
			guestPerms := 0
			for _, p := range res.Definitions.Permissions {
				if p.User == "guest" {
					guestPerms++
				}
			}
			for _, p := range res.Definitions.TopicPermissions {
				if p.User == "guest" {
					guestPerms++
				}
			}
			if moved != tc.wantMoved || (guestPerms > 0) != tc.wantMoved {
				t.Fatalf("guest moved %v with %d permissions, want moved %v", moved, guestPerms, tc.wantMoved)
			}
			codes := map[string]schema.Code{}
			for _, c := range res.Changes {
				codes[c.Addr] = c.Code
				if strings.Contains(c.String(), "guest") && strings.Contains(c.String(), *g.PasswordHash) {
					t.Errorf("a change prints the hash: %s", c)
				}
			}
			if !tc.wantMoved && codes[g.Addr()] != schema.WMigrateDefaultGuest {
				t.Errorf("no %s change for guest: %v", schema.WMigrateDefaultGuest, res.Changes)
			}
			if tc.wantMoved && codes[g.Addr()] != schema.WMigrateAdministrator {
				t.Errorf("guest moved as an administrator without %s: %v", schema.WMigrateAdministrator, res.Changes)
			}
			if codes[ops.Addr()] != schema.WMigrateAdministrator {
				t.Errorf("administrator ops moved without %s: %v", schema.WMigrateAdministrator, res.Changes)
			}
			if _, listed := codes[app.Addr()]; listed {
				t.Errorf("user app, no administrator, listed: %v", res.Changes)
			}
		})
	}
}
