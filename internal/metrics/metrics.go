// Package metrics holds the operator's Prometheus metrics, registered with controller-runtime's
// registry so that the manager's metrics endpoint serves them.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Execution results, the values of the "status" label.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed_out"
	StatusAborted   = "aborted"
)

var (
	// ExecutionsStarted counts executions that started, by state machine type.
	ExecutionsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kstates_executions_started_total",
		Help: "Executions started, by state machine type (STANDARD, EXPRESS).",
	}, []string{"type"})
	// ExecutionsFinished counts executions that ended, by status.
	ExecutionsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kstates_executions_finished_total",
		Help: "Executions that ended, by status (succeeded, failed, timed_out, aborted).",
	}, []string{"status"})
	// StateTransitions counts committed state transitions (states entered) of STANDARD
	// executions.
	StateTransitions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kstates_state_transitions_total",
		Help: "State transitions committed to Execution statuses.",
	})
	// ExecutionDuration observes how long executions ran, by status.
	ExecutionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kstates_execution_duration_seconds",
		Help:    "Duration of ended executions, by status.",
		Buckets: prometheus.ExponentialBuckets(0.01, 4, 12),
	}, []string{"status"})
	// TaskDuration observes how long task containers ran, by result.
	TaskDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kstates_task_duration_seconds",
		Help:    "Duration of finished task containers, by result (succeeded, failed).",
		Buckets: prometheus.ExponentialBuckets(0.1, 4, 10),
	}, []string{"result"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(ExecutionsStarted, ExecutionsFinished, StateTransitions, ExecutionDuration, TaskDuration)
}
