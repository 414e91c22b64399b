// Package inventory reads warren's inventory files: the brokers warren
// manages, with where each is, how to log in, which definitions files it
// gets (a base and overlays) and labels to select it by. It stands before
// load → validate → diff → apply: a command asks it for one broker's
// settings (--broker NAME) or for the brokers of a fleet run.
//
// The file's shape is schema/inventory.schema.json; problems are
// diagnostics at file:line:col, as definitions files' are.
package inventory

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/decode"
	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
)

// Inventory is one inventory file, read.
type Inventory struct {
	Path string // as given
	// Concurrency is how many brokers a fleet run works on at once; 0 when
	// the file does not say.
	Concurrency int
	Brokers     []*Broker
}

// Broker is one entry. Paths are resolved against the inventory's folder.
type Broker struct {
	Name     string
	URLs     []string
	Username string
	// PasswordEnv or PasswordFile says where the password is; both are
	// empty when the inventory gives none.
	PasswordEnv, PasswordFile string
	Target                    string // "rabbitmq" when the file says none
	Files                     []string
	Overlays                  []string
	Labels                    map[string]string
	Owner                     string // the files' owner, as --owner
	// InstanceType and DeploymentMode size an amazonmq-rabbitmq broker,
	// as --instance-type and --deployment-mode.
	InstanceType, DeploymentMode string
	TLS                          TLS
	// At is where the entry is in the inventory.
	At schema.Location
}

// TLS is an entry's TLS settings, as the connection flags take them.
type TLS struct {
	CA, ClientCert, ClientKey string
	Insecure                  bool
}

// Load reads and checks an inventory file. The inventory is nil when
// any diagnostic is an error.
func Load(path string) (*Inventory, schema.Diagnostics) {
	data, err := readFile(path)
	if errors.Is(err, errTooLarge) {
		return nil, schema.Diagnostics{{File: path, Severity: schema.Error, Code: schema.ETooLarge,
			Message: fmt.Sprintf("larger than %d MiB: not an inventory", MaxSize>>20)}}
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, schema.Diagnostics{{File: path, Severity: schema.Error, Code: schema.ERead, Message: "cannot read: " + err.Error()}}
	}
	return Parse(path, data)
}

// MaxSize is the largest inventory file Load reads (a device such as
// /dev/zero given as one would never end).
const MaxSize = 16 << 20

var errTooLarge = errors.New("too large")

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err == nil && len(data) > MaxSize {
		err = errTooLarge
	}
	return data, err
}

// Parse checks an inventory file's content; path names it in diagnostics
// and is where relative paths start from.
func Parse(path string, data []byte) (*Inventory, schema.Diagnostics) {
	var (
		v    any
		root *yaml.Node
		derr *decode.Error
	)
	isJSON := strings.EqualFold(filepath.Ext(path), ".json")
	if isJSON {
		v, derr = decode.JSON(data)
	} else {
		v, root, derr = decode.YAML(data)
	}
	if derr != nil {
		d := schema.Diagnostic{File: path, Pointer: derr.Pointer, Severity: schema.Error, Code: derr.Code, Message: derr.Msg, Pos: derr.Pos}
		if derr.Off >= 0 {
			d.Pos = decode.NewLineIndex(data).Pos(derr.Off)
		}
		return nil, schema.Diagnostics{d}
	}
	var diags schema.Diagnostics
	top, _ := v.(map[string]any)
	list, _ := top["brokers"].([]any)
	// A password written out is E090 (and not also the schema's complaint).
	literal := map[string]bool{}
	for i, item := range list {
		m, _ := item.(map[string]any)
		switch m["password"].(type) {
		case nil, map[string]any, []any:
		default: // a string, a number, a boolean: written out
			ptr := fmt.Sprintf("/brokers/%d/password", i)
			literal[ptr] = true
			diags = append(diags, schema.Diagnostic{Pointer: ptr, Severity: schema.Error, Code: schema.EInventoryPassword,
				Message: "the password is written in the inventory: give {env: NAME} or {file: PATH} instead"})
		}
		// Credentials in a URL are a password written out too.
		urls, _ := m["urls"].([]any)
		for j, raw := range urls {
			s, _ := raw.(string)
			if u, err := url.Parse(s); err == nil && u.User != nil || err != nil && strings.Contains(s, "@") {
				diags = append(diags, schema.Diagnostic{Pointer: fmt.Sprintf("/brokers/%d/urls/%d", i, j), Severity: schema.Error, Code: schema.EInventoryPassword,
					Message: "the URL holds credentials (user@ or user:password@): give username, and password as {env: NAME} or {file: PATH}"})
			}
		}
	}
	seen := map[string]bool{}
	for _, d := range schema.ValidateInventory(v) {
		if i := strings.Index(d.Pointer, "/password"); i >= 0 {
			ptr := d.Pointer[:i+len("/password")]
			if literal[ptr] || seen[ptr] {
				continue
			}
			seen[ptr] = true
			d.Pointer, d.Code, d.Message = ptr, schema.EType, "expected {env: NAME} or {file: PATH}"
		}
		diags = append(diags, d)
	}
	inv := &Inventory{Path: path}
	if n, ok := top["concurrency"].(interface{ String() string }); ok {
		fmt.Sscan(n.String(), &inv.Concurrency)
	}
	dir := filepath.Dir(path)
	first := map[string]int{}
	for i, item := range list {
		m, _ := item.(map[string]any)
		b := &Broker{Name: str(m, "name"), Username: str(m, "username"), Target: str(m, "target"), Owner: str(m, "owner"),
			InstanceType: str(m, "instance_type"), DeploymentMode: str(m, "deployment_mode"),
			URLs: strs(m["urls"]), Files: paths(dir, m["files"]), Overlays: paths(dir, m["overlays"]),
			Labels: map[string]string{}, At: schema.Location{File: path, Pointer: fmt.Sprintf("/brokers/%d", i)}}
		if b.Target == "" {
			b.Target = string(definitions.TargetRabbitMQ)
		}
		if pw, ok := m["password"].(map[string]any); ok {
			b.PasswordEnv = str(pw, "env")
			if f := str(pw, "file"); f != "" {
				b.PasswordFile = rel(dir, f)
			}
		}
		if labels, ok := m["labels"].(map[string]any); ok {
			for k, v := range labels {
				if s, ok := v.(string); ok {
					b.Labels[k] = s
				}
			}
		}
		if tls, ok := m["tls"].(map[string]any); ok {
			b.TLS = TLS{CA: relOrEmpty(dir, str(tls, "ca")), ClientCert: relOrEmpty(dir, str(tls, "client_cert")),
				ClientKey: relOrEmpty(dir, str(tls, "client_key"))}
			b.TLS.Insecure, _ = tls["insecure"].(bool)
		}
		switch {
		case (b.InstanceType != "" || b.DeploymentMode != "") && b.Target != string(definitions.TargetAmazonMQRabbitMQ):
			field := "instance_type"
			if b.InstanceType == "" {
				field = "deployment_mode"
			}
			diags = append(diags, schema.Diagnostic{Pointer: b.At.Pointer + "/" + field, Severity: schema.Error, Code: schema.EValue,
				Message: fmt.Sprintf("%s sizes an Amazon MQ broker: give it with target: %s (this entry's target is %s)", field, definitions.TargetAmazonMQRabbitMQ, b.Target)})
		case b.DeploymentMode != "" && b.InstanceType == "":
			diags = append(diags, schema.Diagnostic{Pointer: b.At.Pointer + "/deployment_mode", Severity: schema.Error, Code: schema.EValue,
				Message: "deployment_mode needs instance_type (the limits checked are the instance type's)"})
		}
		if j, dup := first[b.Name]; dup && b.Name != "" {
			diags = append(diags, schema.Diagnostic{Pointer: b.At.Pointer + "/name", Severity: schema.Error, Code: schema.EInventoryDuplicate,
				Message: fmt.Sprintf("broker %q is defined twice", b.Name),
				Also:    &schema.Location{File: path, Pointer: fmt.Sprintf("/brokers/%d/name", j)}})
		} else {
			first[b.Name] = i
		}
		inv.Brokers = append(inv.Brokers, b)
	}
	locate(path, data, isJSON, root, diags)
	if diags.HasErrors() {
		return nil, diags
	}
	return inv, diags
}

// locate sets the file and position of diagnostics from their pointers.
func locate(path string, data []byte, isJSON bool, root *yaml.Node, diags schema.Diagnostics) {
	var ptrs []string
	for i := range diags {
		diags[i].File = path
		ptrs = append(ptrs, diags[i].Pointer)
		if a := diags[i].Also; a != nil {
			ptrs = append(ptrs, a.Pointer)
		}
	}
	if len(ptrs) == 0 {
		return
	}
	pos := map[string]schema.Pos{}
	if isJSON {
		lines := decode.NewLineIndex(data)
		for p, off := range decode.LocateJSON(data, ptrs) {
			pos[p] = lines.Pos(off)
		}
	} else if root != nil {
		pos = decode.LocateYAML(root, ptrs)
	}
	for i := range diags {
		diags[i].Pos = pos[diags[i].Pointer]
		if a := diags[i].Also; a != nil {
			a.Pos = pos[a.Pointer]
		}
	}
}

// Broker is the entry named name.
func (inv *Inventory) Broker(name string) (*Broker, error) {
	for _, b := range inv.Brokers {
		if b.Name == name {
			return b, nil
		}
	}
	names := make([]string, len(inv.Brokers))
	for i, b := range inv.Brokers {
		names[i] = b.Name
	}
	return nil, fmt.Errorf("%s has no broker %q (it has %s)", inv.Path, name, strings.Join(names, ", "))
}

// Select returns the brokers whose labels match every selector
// (label=value; label!=value excludes), in the inventory's order.
func (inv *Inventory) Select(selectors []string) ([]*Broker, error) {
	type sel struct {
		key, value string
		not        bool
	}
	var sels []sel
	for _, s := range selectors {
		not := strings.Contains(s, "!=")
		k, v, ok := strings.Cut(strings.Replace(s, "!=", "=", 1), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid --select %q: use label=value or label!=value", s)
		}
		sels = append(sels, sel{k, v, not})
	}
	var out []*Broker
	for _, b := range inv.Brokers {
		if !slices.ContainsFunc(sels, func(s sel) bool { return (b.Labels[s.key] == s.value) == s.not }) {
			out = append(out, b)
		}
	}
	return out, nil
}

// Password reads the entry's password from its source; "" when the entry
// names none.
func (b *Broker) Password() (string, error) {
	switch {
	case b.PasswordEnv != "":
		p, ok := os.LookupEnv(b.PasswordEnv)
		if !ok || p == "" {
			return "", fmt.Errorf("broker %q: environment variable %s (its password) is not set", b.Name, b.PasswordEnv)
		}
		return p, nil
	case b.PasswordFile != "":
		p, err := definitions.ReadSecretFile(b.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("broker %q: reading its password file: %w", b.Name, err)
		}
		if p == "" {
			return "", fmt.Errorf("broker %q: its password file %s is empty", b.Name, b.PasswordFile)
		}
		return p, nil
	}
	return "", nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func paths(dir string, v any) []string {
	out := strs(v)
	for i, p := range out {
		out[i] = rel(dir, p)
	}
	return out
}

// rel resolves p against the inventory's folder.
func rel(dir, p string) string {
	if filepath.IsAbs(p) || dir == "." {
		return p
	}
	return filepath.Join(dir, p)
}

func relOrEmpty(dir, p string) string {
	if p == "" {
		return ""
	}
	return rel(dir, p)
}
