// Package controllers holds the reconcilers of the kstates operator.
package controllers

// The operator's permissions, least privilege: controller-gen turns these markers into
// config/rbac/role.yaml (`make manifests`). Reconcilers added later extend this list here,
// in one place, so that a review of what the operator may do reads one file.
//
// StateMachines are read and get their status written; executions likewise, and a user's
// abort arrives through the spec, which the operator never writes (except spec.abort of the
// child executions it started, below). The finalizers
// subresources are needed to create owned objects with blockOwnerDeletion.
// +kubebuilder:rbac:groups=kstates.io,resources=statemachines;executions,verbs=get;list;watch
// +kubebuilder:rbac:groups=kstates.io,resources=statemachines/status;executions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kstates.io,resources=statemachines/finalizers;executions/finalizers,verbs=update
//
// Revisions are created per distinct definition (with the finalizer
// kstates.io/revision-in-use), pruned (delete), and patched only to add or remove that
// finalizer: metadata.finalizers needs patch on the object itself, not the /finalizers
// subresource (that is for blockOwnerDeletion on objects a revision would own, and it owns
// none). Executions never write their revision. History chunks and payloads are written once
// and never updated.
// +kubebuilder:rbac:groups=kstates.io,resources=statemachinerevisions,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=kstates.io,resources=historychunks;payloads,verbs=get;list;watch;create;delete
//
// Task pods: created once per attempt with a deterministic name, deleted on timeout/abort.
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;delete
// A task's output larger than its termination message is the last line of its log.
// +kubebuilder:rbac:groups="",resources=pods/log,verbs=get
//
// Kubernetes Events for lifecycle changes.
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch
//
// Task callbacks (.waitForTaskToken): users create TaskCallbacks; the operator reads them,
// writes their outcome and deletes them a while after.
// +kubebuilder:rbac:groups=kstates.io,resources=taskcallbacks,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=kstates.io,resources=taskcallbacks/status,verbs=get;update;patch
//
// Job tasks (kstates:job, kstates:job.sync): one Job per attempt, deleted when no longer
// wanted; their pods are read (above) for the output.
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
//
// Child executions (arn:aws:states:::states:startExecution[.sync[:2]]): created owned by the
// parent; the spec of a child a parent no longer waits for is patched with spec.abort (the
// only spec the operator writes, and only of executions it created).
// +kubebuilder:rbac:groups=kstates.io,resources=executions,verbs=create;patch
