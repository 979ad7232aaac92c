// Package podtask turns a Task state's request into a Pod and a finished Pod back into the
// task's result. It is pure (no API calls): the controller creates, reads and deletes pods.
//
// The I/O contract (docs/operator.md, "Pod tasks"):
//   - the container receives the task's input as JSON in the file /kstates/input.json (a
//     downward-API volume of the pod's kstates.io/input annotation, so the pod carries its
//     input and is created in one write), and, when at most 32 KiB, in $KSTATES_INPUT;
//   - it reports its output by writing JSON to /dev/termination-log and exiting 0 (nothing
//     written means {});
//   - it reports a named error by writing {"Error": "...", "Cause": "..."} there and exiting
//     non-zero; any other non-zero exit is States.TaskFailed.
package podtask

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine/value"
)

// ResourcePod is the built-in Task Resource that runs the container described by the
// task's effective input (Parameters or Arguments): Image, Command, Args, Env, Resources,
// and the Input the container receives.
const ResourcePod = "kstates:pod"

// Names and paths of the contract.
const (
	ContainerName          = "task"
	InputAnnotation        = "kstates.io/input"
	ThreadAnnotation       = "kstates.io/thread"
	StateAnnotation        = "kstates.io/state"
	EntryAnnotation        = "kstates.io/entry"
	AttemptLabel           = "kstates.io/attempt"
	TaskLabel              = "kstates.io/task"
	InputDir               = "/kstates"
	InputFile              = InputDir + "/input.json"
	TerminationMessagePath = "/dev/termination-log"
	// MaxEnvInputBytes is the largest input also given in $KSTATES_INPUT.
	MaxEnvInputBytes = 32 * 1024
	// MaxInputBytes is the largest input a pod can carry: annotations are limited to 256 KiB
	// in all, and the pod has a few others.
	MaxInputBytes = 256*1024 - 2048
)

// Task is one attempt of a Task state to run as a pod.
type Task struct {
	Namespace     string
	ExecutionName string
	ExecutionUID  string
	ExecutionID   string
	// ObjectPrefix is the execution's object prefix (v1alpha1.ExecutionObjectPrefix).
	ObjectPrefix string
	Thread       string
	State        string
	// Entry is the id of the state's entered event: it tells apart visits of the same state
	// (a loop), which each start again at attempt 0.
	Entry    int64
	Attempt  int
	Resource string
	// Input is the effective input (value model).
	Input     any
	TaskToken string
	// Revision supplies bindings, the service account and pod defaults.
	Revision *kstatesv1alpha1.StateMachineRevisionSpec
}

// PodName is the deterministic name of a task attempt's pod: the execution's object prefix,
// the state name (made DNS-safe), a hash of the thread id, the state and the entry (the id of
// the state's entered event, so that each visit of a state in a loop is a new task) and the
// attempt. A controller that repeats a step creates the same name, and the API server's
// AlreadyExists keeps it to one pod.
func PodName(prefix, state, thread string, entry int64, attempt int) string {
	h := sha256.Sum256([]byte(thread + "\x00" + state + "\x00" + strconv.FormatInt(entry, 10)))
	slug := dnsSlug(state, 40)
	name := prefix + "-" + slug + "-" + hex.EncodeToString(h[:])[:6] + "-" + strconv.Itoa(attempt)
	if len(name) > 253 {
		name = name[len(name)-253:]
		name = strings.TrimLeft(name, "-.")
	}
	return name
}

func dnsSlug(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= n {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		out = "task"
	}
	return out
}

// containerSpec is what a task runs: from a binding or from a kstates:pod input.
type containerSpec struct {
	c     kstatesv1alpha1.TaskContainer
	input any
}

// Build returns the pod for t. Its error names the offending field of the task's input or
// says that the resource has no binding; the task then fails with States.TaskFailed.
func Build(t *Task) (*corev1.Pod, error) {
	spec, err := resolve(t)
	if err != nil {
		return nil, err
	}
	in := value.Marshal(spec.input)
	if len(in) > MaxInputBytes {
		return nil, fmt.Errorf("the task input is %d bytes, more than a pod can carry (%d)", len(in), MaxInputBytes)
	}
	rev := t.Revision
	c := corev1.Container{
		Name:                     ContainerName,
		Image:                    spec.c.Image,
		ImagePullPolicy:          spec.c.ImagePullPolicy,
		Command:                  spec.c.Command,
		Args:                     spec.c.Args,
		WorkingDir:               spec.c.WorkingDir,
		EnvFrom:                  spec.c.EnvFrom,
		Resources:                spec.c.Resources,
		SecurityContext:          spec.c.SecurityContext,
		TerminationMessagePath:   TerminationMessagePath,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		VolumeMounts:             []corev1.VolumeMount{{Name: "kstates-input", MountPath: InputDir, ReadOnly: true}},
	}
	env := []corev1.EnvVar{
		{Name: "KSTATES_INPUT_FILE", Value: InputFile},
		{Name: "KSTATES_EXECUTION_ID", Value: t.ExecutionID},
		{Name: "KSTATES_STATE", Value: t.State},
		{Name: "KSTATES_ATTEMPT", Value: strconv.Itoa(t.Attempt)},
	}
	if len(in) <= MaxEnvInputBytes {
		env = append(env, corev1.EnvVar{Name: "KSTATES_INPUT", Value: string(in)})
	}
	if t.TaskToken != "" {
		env = append(env, corev1.EnvVar{Name: TaskTokenEnv, Value: t.TaskToken})
	}
	c.Env = append(env, spec.c.Env...)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   t.Namespace,
			Name:        PodName(t.ObjectPrefix, t.State, t.Thread, t.Entry, t.Attempt),
			Labels:      map[string]string{},
			Annotations: map[string]string{},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			ServiceAccountName: rev.ServiceAccountName,
			Containers:         []corev1.Container{c},
			Volumes: []corev1.Volume{{
				Name: "kstates-input",
				VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
					Items: []corev1.DownwardAPIVolumeFile{{
						Path:     "input.json",
						FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + InputAnnotation + "']"},
					}},
				}},
			}},
		},
	}
	if d := rev.TaskDefaults; d != nil {
		for k, v := range d.Labels {
			pod.Labels[k] = v
		}
		for k, v := range d.Annotations {
			pod.Annotations[k] = v
		}
		pod.Spec.NodeSelector = d.NodeSelector
		pod.Spec.Tolerations = d.Tolerations
		pod.Spec.Affinity = d.Affinity
		pod.Spec.PriorityClassName = d.PriorityClassName
		pod.Spec.ImagePullSecrets = d.ImagePullSecrets
		pod.Spec.SecurityContext = d.SecurityContext
		if d.Resources != nil && len(c.Resources.Requests) == 0 && len(c.Resources.Limits) == 0 {
			pod.Spec.Containers[0].Resources = *d.Resources
		}
	}
	// The operator's own labels and annotations win over the defaults.
	pod.Labels[kstatesv1alpha1.LabelExecutionUID] = t.ExecutionUID
	pod.Labels[TaskLabel] = "true"
	pod.Labels[AttemptLabel] = strconv.Itoa(t.Attempt)
	pod.Annotations[InputAnnotation] = string(in)
	pod.Annotations[ThreadAnnotation] = t.Thread
	pod.Annotations[StateAnnotation] = t.State
	pod.Annotations[EntryAnnotation] = strconv.FormatInt(t.Entry, 10)
	return pod, nil
}

// resolve finds the container of a task: the kstates:pod input, or the binding of the
// resource.
func resolve(t *Task) (*containerSpec, error) {
	if t.Resource == ResourcePod || t.Resource == ResourcePod+WaitForTaskTokenSuffix {
		return fromInput(t.Input)
	}
	for i := range t.Revision.Bindings {
		if b := &t.Revision.Bindings[i]; b.Resource == t.Resource {
			return &containerSpec{c: b.Container, input: t.Input}, nil
		}
	}
	return nil, fmt.Errorf("no binding for Resource %q in the StateMachine's spec.bindings, and it is not a built-in resource (%s)", t.Resource, ResourcePod)
}

// fromInput reads a kstates:pod task's effective input: {"Image": ..., "Command": [...],
// "Args": [...], "Env": {"NAME": "value"}, "Resources": {"Requests": {...}, "Limits": {...}},
// "ImagePullPolicy": ..., "WorkingDir": ..., "Input": <what the container receives>}.
// Without Input, the container receives the whole effective input.
func fromInput(in any) (*containerSpec, error) {
	obj, ok := in.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the input of a %s task must be an object with an Image, got %s", ResourcePod, value.TypeName(in))
	}
	s := &containerSpec{input: in}
	known := map[string]bool{"Image": true, "Command": true, "Args": true, "Env": true, "Resources": true, "Input": true, "ImagePullPolicy": true, "WorkingDir": true}
	var unknown []string
	for k := range obj {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 && obj["Input"] == nil {
		// Without Input, extra fields are the container's input; that is allowed.
		unknown = nil
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s task input: unknown field(s) %s (allowed: Image, Command, Args, Env, Resources, ImagePullPolicy, WorkingDir, Input)", ResourcePod, strings.Join(unknown, ", "))
	}
	img, ok := obj["Image"].(string)
	if !ok || img == "" {
		return nil, fmt.Errorf("%s task input: Image must be a non-empty string", ResourcePod)
	}
	s.c.Image = img
	var err error
	if s.c.Command, err = strings_(obj, "Command"); err != nil {
		return nil, err
	}
	if s.c.Args, err = strings_(obj, "Args"); err != nil {
		return nil, err
	}
	if v, ok := obj["ImagePullPolicy"]; ok {
		p, _ := v.(string)
		switch corev1.PullPolicy(p) {
		case corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent:
			s.c.ImagePullPolicy = corev1.PullPolicy(p)
		default:
			return nil, fmt.Errorf("%s task input: ImagePullPolicy must be Always, Never or IfNotPresent", ResourcePod)
		}
	}
	if v, ok := obj["WorkingDir"]; ok {
		if s.c.WorkingDir, ok = v.(string); !ok {
			return nil, fmt.Errorf("%s task input: WorkingDir must be a string", ResourcePod)
		}
	}
	if v, ok := obj["Env"]; ok {
		env, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s task input: Env must be an object of strings", ResourcePod)
		}
		names := make([]string, 0, len(env))
		for k := range env {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			val, ok := env[k].(string)
			if !ok {
				val = value.MarshalString(env[k])
			}
			s.c.Env = append(s.c.Env, corev1.EnvVar{Name: k, Value: val})
		}
	}
	if v, ok := obj["Resources"]; ok {
		r, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s task input: Resources must be an object with Requests and Limits", ResourcePod)
		}
		for key, dst := range map[string]*corev1.ResourceList{"Requests": &s.c.Resources.Requests, "Limits": &s.c.Resources.Limits} {
			if rv, ok := r[key]; ok {
				list, err := quantities(rv, "Resources."+key)
				if err != nil {
					return nil, err
				}
				*dst = list
			}
		}
	}
	if v, ok := obj["Input"]; ok {
		s.input = v
	}
	return s, nil
}

func strings_(obj map[string]any, key string) ([]string, error) {
	v, ok := obj[key]
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s task input: %s must be an array of strings", ResourcePod, key)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s task input: %s[%d] must be a string", ResourcePod, key, i)
		}
		out[i] = s
	}
	return out, nil
}

func quantities(v any, field string) (corev1.ResourceList, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s task input: %s must be an object of quantities", ResourcePod, field)
	}
	list := corev1.ResourceList{}
	for k, x := range m {
		var s string
		switch q := x.(type) {
		case string:
			s = q
		default:
			if !value.IsNumber(q) {
				return nil, fmt.Errorf("%s task input: %s.%s must be a quantity such as \"500m\" or \"1Gi\"", ResourcePod, field, k)
			}
			s = value.MarshalString(q)
		}
		qty, err := resource.ParseQuantity(s)
		if err != nil {
			return nil, fmt.Errorf("%s task input: %s.%s: %v", ResourcePod, field, k, err)
		}
		list[corev1.ResourceName(k)] = qty
	}
	return list, nil
}
