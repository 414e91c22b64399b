// Package seeders holds Target, the interface every broker target
// implements, and one package per target (rabbitmq, amazonmqrabbitmq,
// amazonmqactivemq, huaweicloud). A target reads a live broker into a
// definitions.Document (the kinds asked for), gives the diff options its
// rules need, and carries out a plan.Plan (apply), through a narrow
// client for that broker's API; optional interfaces (Locker, Versioned,
// Noter, Finisher, Exporter) add what only some targets have.
//
// They stand at the end of load → validate → diff → apply: package plan
// decides what should change; a target only talks to the broker. Adding a
// target is one package here and one case in cmd/warren's openTarget.
package seeders
