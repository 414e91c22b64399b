package operation

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// The check after an apply reads again the kinds of the changes the
// broker did not confirm one by one, and not at all when it confirmed
// every change.
func TestVerifySkipsConfirmed(t *testing.T) {
	perm := &definitions.Permission{User: "u", Vhost: "v", Configure: ".*", Write: ".*", Read: ".*"}
	desired := &definitions.Document{Permissions: []*definitions.Permission{perm}}
	change := plan.Change{Action: plan.Update, Step: plan.StepUpdate, Kind: definitions.KindPermission, Addr: plan.AddrOf(perm), After: perm}
	applied := &plan.Plan{Changes: []plan.Change{change}}
	// The broker holds something else: only a read tells.
	broker := func() *countingTarget {
		return &countingTarget{ExportFile: ExportFile{name: definitions.TargetRabbitMQ, doc: &definitions.Document{
			Permissions: []*definitions.Permission{{User: "u", Vhost: "v", Configure: "", Write: "", Read: ""}}}}}
	}

	confirmed := broker()
	var log bytes.Buffer
	err := verify(context.Background(), &bufferUI{log: &log}, planner{t: confirmed}, desired, applied, map[changeKey]bool{keyOf(change): true})
	if err != nil || confirmed.reads != 0 || !strings.Contains(log.String(), "The broker matches the files.") {
		t.Errorf("every change confirmed: %d reads (want none), %v\n%s", confirmed.reads, err, log.String())
	}

	unconfirmed := broker()
	log.Reset()
	err = verify(context.Background(), &bufferUI{log: &log}, planner{t: unconfirmed}, desired, applied, nil)
	if err == nil || unconfirmed.reads != 1 || !strings.Contains(log.String(), "did not take everything") {
		t.Errorf("a change not confirmed: %d reads (want 1), %v\n%s", unconfirmed.reads, err, log.String())
	}
}

// Deleting an exchange may take the topic permissions on it (RabbitMQ 4.3)
// and its bindings: the check after an apply reads them again, and a
// topic permission of the files the broker lost with it is reported.
func TestVerifyReadsWhatDeletionsTake(t *testing.T) {
	gone := &definitions.Exchange{Vhost: "v", Name: "old", Type: "topic"}
	tp := &definitions.TopicPermission{User: "u", Vhost: "v", Exchange: "kept", Write: ".*", Read: ".*"}
	desired := &definitions.Document{TopicPermissions: []*definitions.TopicPermission{tp}, Exchanges: []*definitions.Exchange{{Vhost: "v", Name: "kept", Type: "topic"}}}
	applied := &plan.Plan{Changes: []plan.Change{{Action: plan.Delete, Step: plan.StepDelete, Kind: definitions.KindExchange, Addr: plan.AddrOf(gone), Before: gone}}}
	broker := &countingTarget{ExportFile: ExportFile{name: definitions.TargetRabbitMQ, doc: &definitions.Document{
		Exchanges: []*definitions.Exchange{{Vhost: "v", Name: "kept", Type: "topic"}}}}}
	var log bytes.Buffer
	err := verify(context.Background(), &bufferUI{log: &log}, planner{t: broker}, desired, applied, nil)
	if err == nil || !strings.Contains(log.String(), "topic permission") {
		t.Errorf("a topic permission lost with a deleted exchange went unseen: %v\n%s", err, log.String())
	}
}
