package operation

import (
	"errors"
	"io"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// Files are the definitions files an operation reads.
type Files struct {
	// Paths are files, directories, or - for Stdin.
	Paths []string
	// Overlays, when set (an inventory entry's), are laid over Paths
	// (definitions.LoadLayers).
	Overlays []string
	Layered  bool
	Stdin    io.Reader
	MaxSize  int64
}

// Desired is what the files say, checked.
type Desired struct {
	Doc *definitions.Document
	// Layers say which overlay set each field (nil without overlays).
	Layers *definitions.Layers
}

// remap points diagnostics about fields an overlay set at that overlay.
func (d Desired) remap(diags schema.Diagnostics) schema.Diagnostics {
	if d.Layers != nil {
		return d.Layers.Remap(diags)
	}
	return diags
}

// Load loads the files, without checking them.
func Load(f Files) (*definitions.Document, *definitions.Layers, schema.Diagnostics, error) {
	opts := definitions.LoadOptions{MaxSize: f.MaxSize, Stdin: f.Stdin}
	if f.Layered {
		doc, layers, diags := definitions.LoadLayers(f.Paths, f.Overlays, definitions.LoadOptions{MaxSize: f.MaxSize})
		return doc, layers, diags, nil
	}
	if len(f.Paths) == 0 {
		return nil, nil, nil, errors.New("no files given: name definitions files or directories, or - for standard input")
	}
	doc, diags := definitions.Load(f.Paths, opts)
	return doc, nil, diags, nil
}

// LoadValid loads the files and checks them for the target. Errors are
// shown and stop the operation; warnings are shown. With brokerDecides
// (diff and apply), the warnings that say what some versions do with a
// key are left to the check against the broker's own version
// (checkBrokerVersion): a vhost's protection is not "ignored before 4.0.6"
// to a 4.3 broker.
func LoadValid(ui UI, f Files, target definitions.TargetName, brokerDecides bool) (Desired, error) {
	return LoadValidWith(ui, f, definitions.CheckOptions{Target: target}, brokerDecides)
}

// LoadValidWith is LoadValid with the check's options (the target, and
// its edition for Huawei Cloud DMS).
func LoadValidWith(ui UI, f Files, check definitions.CheckOptions, brokerDecides bool) (Desired, error) {
	return LoadValidWhile(ui, f, check, brokerDecides, nil)
}

// LoadValidWhile is LoadValidWith that also runs during on the loaded
// document, on another goroutine while the checks run, and returns when
// both are done: a question about the files is answered on the second core
// in the time the checks take, not after them. during must only read the
// document; what it finds is for the caller to use only when
// LoadValidWhile returns no error. It is not run when loading found an
// error.
func LoadValidWhile(ui UI, f Files, check definitions.CheckOptions, brokerDecides bool, during func(*definitions.Document)) (Desired, error) {
	doc, layers, diags, err := Load(f)
	if err != nil {
		return Desired{}, err
	}
	d := Desired{Doc: doc, Layers: layers}
	if doc != nil {
		var done chan struct{}
		if during != nil && !diags.HasErrors() {
			done = make(chan struct{})
			go func() {
				defer close(done)
				during(doc)
			}()
		}
		diags = d.remap(append(diags, CheckForTarget(doc, check)...))
		if done != nil {
			<-done
		}
	}
	if diags.HasErrors() || doc == nil {
		ui.Diagnostics(diags)
		nerr, _ := diags.Count()
		return Desired{}, reported(ui, "%s in the files; nothing was compared", Plural(nerr, "error"))
	}
	var warnings schema.Diagnostics
	for _, diag := range diags {
		if diag.Severity == schema.Warning && !(brokerDecides && versionCodes[diag.Code]) {
			warnings = append(warnings, diag)
		}
	}
	ui.Diagnostics(warnings)
	return d, nil
}
