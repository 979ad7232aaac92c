// Package v1alpha1 contains the kstates.io/v1alpha1 API: StateMachine and Execution, the two
// kinds users write, and the objects the operator keeps beside them (StateMachineRevision,
// HistoryChunk, Payload). See docs/operator.md for the storage design and size budgets.
//
// +kubebuilder:object:generate=true
// +groupName=kstates.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "kstates.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
