package operation

import (
	"context"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

// checkBrokerVersion checks the files against the rules of the broker's
// own version (GET /api/overview) and the deprecated features its node
// permits before an operation changes or compares anything: what they
// refuse stops it, each error at its place in the files. LoadValid already
// showed the warnings. It returns the broker's version ("" when the
// target does not say it, or warren does not know its rules).
func checkBrokerVersion(ctx context.Context, ui UI, t seeders.Target, d Desired, target definitions.TargetName) (string, error) {
	v, ok := t.(seeders.Versioned)
	if !ok {
		showVersionWarnings(ui, d, target)
		return "", nil
	}
	version, err := v.Version(ctx)
	if err != nil {
		return "", err
	}
	supported, err := definitions.CheckRabbitMQVersion(version)
	if err != nil {
		logf(ui, "warren: the broker runs RabbitMQ %s, whose rules warren does not know; checked for every supported version only", version)
		showVersionWarnings(ui, d, target)
		return "", nil
	}
	if !supported {
		logf(ui, "warren: the broker runs RabbitMQ %s, which is out of support (supported: %s); checking its rules anyway",
			version, strings.Join(definitions.SupportedSeries, ", "))
	}
	opts := definitions.CheckOptions{Target: target, RabbitMQVersion: version}
	// What the node permits of its deprecated features decides over the
	// version's defaults (3.13 and later; older brokers have none).
	if f, ok := t.(interface {
		DeprecatedFeatures(context.Context) (map[string]string, error)
	}); ok {
		if opts.DeprecatedFeatures, err = f.DeprecatedFeatures(ctx); err != nil {
			return "", err
		}
	}
	var errs, ignored schema.Diagnostics
	for _, diag := range definitions.Check(d.Doc, opts) {
		switch {
		case diag.Severity == schema.Error:
			errs = append(errs, diag)
		case versionCodes[diag.Code]:
			// What this broker's version ignores (a vhost's protection
			// before 4.0.6, say) or its node may refuse, said with the
			// version's name; LoadValid left these to this check.
			ignored = append(ignored, diag)
		}
	}
	ui.Diagnostics(ignored)
	if len(errs) == 0 {
		return version, nil
	}
	ui.Diagnostics(errs)
	return "", reported(ui, "%s for RabbitMQ %s (the broker's version); nothing was changed", Plural(len(errs), "error"), version)
}

// versionCodes are the warnings that say what the broker does with a key
// now: what some versions ignore (W124) or refuse where a node denies a
// deprecated feature (W125). Checked without a version, they speak of every
// supported version (a 4.3 broker would hear that its vhosts' protection
// is "ignored before 4.0.6"); diff and apply say them for the broker's own
// version instead (checkBrokerVersion). What some versions refuse (W120)
// is still said for every supported version: against a 3.x broker, that
// 4.x refuses a policy is what an upgrade needs to know.
var versionCodes = map[schema.Code]bool{schema.WVersionIgnored: true, schema.WDeprecatedFeature: true}

// showVersionWarnings says the version warnings LoadValid left to
// checkBrokerVersion, for every supported version, where the broker's own
// version is not known (a target that does not say it, a version whose
// rules warren does not know).
func showVersionWarnings(ui UI, d Desired, target definitions.TargetName) {
	var out schema.Diagnostics
	for _, diag := range definitions.Check(d.Doc, definitions.CheckOptions{Target: target}) {
		if versionCodes[diag.Code] {
			out = append(out, diag)
		}
	}
	ui.Diagnostics(d.remap(out))
}

// checkReferences checks what the files leave to the broker (a vhost or a
// permission's user no file defines, a binding's source or destination no
// file defines) against the live broker, before anything is planned or
// changed: what the broker's version would refuse is an error at its place
// (E112), a binding it would drop silently a warning (W170). The broker is
// read only for the kinds the files leave to it, and only for a RabbitMQ
// broker (a target that says its version).
func checkReferences(ctx context.Context, ui UI, t seeders.Target, desired *definitions.Document) error {
	v, ok := t.(seeders.Versioned)
	if !ok {
		return nil
	}
	kinds := desired.ReferencedKinds()
	if len(kinds) == 0 {
		return nil
	}
	version, err := v.Version(ctx)
	if err != nil {
		return err
	}
	live, err := t.Read(ctx, kinds)
	if err != nil {
		return err
	}
	diags := desired.LiveReferences(live, version)
	ui.Diagnostics(diags)
	if errs, _ := diags.Count(); errs > 0 {
		return reported(ui, "%s against the broker (RabbitMQ %s); nothing was changed", Plural(errs, "error"), version)
	}
	return nil
}

// preflight is what diff and apply check before they plan: the options
// the target cannot honour, the broker's identity, the files against the
// broker's version, what the files leave to the broker, and, for an
// owner, the owners' records. Then the desired definitions say what that
// version's import keeps where the files say it two ways
// (definitions.KeepAsImported), on a copy: the caller's document is not
// changed. The planner it returns makes the plans.
func preflight(ctx context.Context, ui UI, t seeders.Target, name definitions.TargetName, d Desired, opts plan.Options, given map[seeders.Option]bool) (plan.BrokerID, *definitions.Document, planner, error) {
	pl := planner{t: t, opts: opts}
	if err := refuseUnsupported(t, given, opts); err != nil {
		return plan.BrokerID{}, nil, pl, err
	}
	id, err := t.Identity(ctx)
	if err != nil {
		return plan.BrokerID{}, nil, pl, err
	}
	version, err := checkBrokerVersion(ctx, ui, t, d, name)
	if err != nil {
		return plan.BrokerID{}, nil, pl, err
	}
	if err := checkReferences(ctx, ui, t, d.Doc); err != nil {
		return plan.BrokerID{}, nil, pl, err
	}
	if err := checkProfile(ctx, ui, t, d); err != nil {
		return plan.BrokerID{}, nil, pl, err
	}
	if pl, err = withSettings(ctx, ui, pl, d); err != nil {
		return plan.BrokerID{}, nil, pl, err
	}
	doc := d.Doc
	if version != "" {
		doc = definitions.KeepAsImported(doc, version)
	}
	pl.version = version
	return id, doc, pl, nil
}
