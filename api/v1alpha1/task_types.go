package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
)

// TaskContainer is the part of a corev1.Container a task binding sets. The operator adds the
// name, the input file mount and the termination-message settings itself.
type TaskContainer struct {
	// image is the container image.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Image string `json:"image"`

	// imagePullPolicy is Always, Never or IfNotPresent; the Kubernetes default applies when
	// empty.
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// command replaces the image's entrypoint.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`

	// args are the arguments to the entrypoint.
	// +optional
	// +listType=atomic
	Args []string `json:"args,omitempty"`

	// workingDir is the container's working directory.
	// +optional
	WorkingDir string `json:"workingDir,omitempty"`

	// env are environment variables set in the container.
	// +optional
	// +listType=map
	// +listMapKey=name
	Env []corev1.EnvVar `json:"env,omitempty"`

	// envFrom are sources of environment variables (ConfigMaps, Secrets).
	// +optional
	// +listType=atomic
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`

	// resources are the container's compute resource requests and limits.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// securityContext is the container's security context.
	// +optional
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
}

// TaskPodDefaults are pod settings applied to every task pod of a state machine.
type TaskPodDefaults struct {
	// labels are added to every task pod.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// annotations are added to every task pod.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// nodeSelector constrains task pods to nodes with these labels.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations let task pods run on tainted nodes.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity sets scheduling constraints of task pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// priorityClassName is the priority class of task pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// imagePullSecrets are the secrets used to pull task images.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// securityContext is the pod-level security context of task pods.
	// +optional
	SecurityContext *corev1.PodSecurityContext `json:"securityContext,omitempty"`

	// resources are the default requests and limits of task containers that set none.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}
