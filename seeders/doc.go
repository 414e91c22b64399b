// Package seeders holds one package per broker target. Each reads a live
// broker into a definitions.Document (export) and carries out a
// definitions.Plan (apply), through a narrow client for that broker's API.
//
// They stand at the end of load → validate → diff → apply: definitions
// decides what should change; a seeder only talks to the broker.
package seeders
