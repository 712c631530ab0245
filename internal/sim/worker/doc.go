// Package worker is dbgpt-sim's model worker: it checks its model path, "loads"
// the model (a configurable delay), opens its port, registers
// <model>@<type> and WorkerManager@service through the first healthy
// controller, heartbeats, and deregisters when told to stop.
//
// It serves no model API; only its port answering matters to hactl.
package worker
