package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
	"github.com/kstates/kstates/internal/podtask"
)

// Child executions: a Task whose Resource is AWS's Step Functions integration starts another
// Execution in the parent's namespace, owned by the parent. ".sync" and ".sync:2" wait for it
// and return AWS's DescribeExecution shape (Input and Output as JSON text for .sync, as JSON
// for .sync:2); a failed, timed-out or aborted child fails the task with States.TaskFailed and
// that shape, as JSON text, as its cause. Without a suffix (request-response) the task returns
// {ExecutionArn, StartDate} once the child exists. A waiting task that no longer wants its
// child (the parent aborted or timed out, the task timed out or was cancelled) aborts it.

// The child-execution Resources.
const (
	ResourceStartExecution      = "arn:aws:states:::states:startExecution"
	ResourceStartExecutionSync  = ResourceStartExecution + ".sync"
	ResourceStartExecutionSync2 = ResourceStartExecution + ".sync:2"
	// ResourceStartExecutionCallback starts the child and waits for a callback with the task's
	// token (which the Parameters pass in the child's Input, "$$.Task.Token"), not for the
	// child's end; the child runs on by itself, as with request-response.
	ResourceStartExecutionCallback = ResourceStartExecution + podtask.WaitForTaskTokenSuffix
)

// Labels and annotations of child executions.
const (
	// LabelParentUID is the UID of the execution that started a child.
	LabelParentUID = "kstates.io/parent-execution-uid"
	// LabelParentWaits is "true" on the child of a .sync task: it is aborted when its parent
	// stops waiting for it.
	LabelParentWaits = "kstates.io/parent-waits"
	// AnnotationParentTask names the parent's task attempt (as its pod would be named).
	AnnotationParentTask = "kstates.io/parent-task"
	// AnnotationStartedBy is the parent's $$.Execution.Id (AWS's
	// AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID).
	AnnotationStartedBy = "kstates.io/started-by"
)

// ErrExecutionAlreadyExists is AWS's error for a Name that an execution not started by this
// task attempt already has.
const ErrExecutionAlreadyExists = "StepFunctions.ExecutionAlreadyExistsException"

// ErrStateMachineDoesNotExist is AWS's error for a StateMachineArn that names no (valid)
// state machine: a .sync child that waits for its StateMachine fails the task with it.
const ErrStateMachineDoesNotExist = "StepFunctions.StateMachineDoesNotExistException"

// ErrChildDeleted: the child execution of a running .sync task was deleted.
const ErrChildDeleted = "kstates.ExecutionDeleted"

// isChildResource reports whether a task starts a child execution (a binding of the same
// string takes precedence: it runs a container instead).
func isChildResource(resource string, rev *kstatesv1alpha1.StateMachineRevisionSpec) bool {
	switch resource {
	case ResourceStartExecution, ResourceStartExecutionSync, ResourceStartExecutionSync2, ResourceStartExecutionCallback:
	default:
		return false
	}
	for i := range rev.Bindings {
		if rev.Bindings[i].Resource == resource {
			return false
		}
	}
	return true
}

// childRequest is a startExecution task's Parameters.
type childRequest struct {
	stateMachine string
	input        string
	name         string
}

// parseChildRequest reads StateMachineArn (an AWS ARN whose last segment names a StateMachine,
// kstates' own arn:kstates:states:<namespace>:stateMachine:<name>, or a bare name), Input (an
// object, or JSON text), Name (optional) and TraceHeader (ignored).
func parseChildRequest(in any, namespace string) (*childRequest, error) {
	obj, ok := in.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the input of a %s task must be an object with a StateMachineArn, got %s", ResourceStartExecution, value.TypeName(in))
	}
	for k := range obj {
		switch k {
		case "StateMachineArn", "Input", "Name", "TraceHeader":
		default:
			return nil, fmt.Errorf("%s task input: unknown field %q (allowed: StateMachineArn, Input, Name, TraceHeader)", ResourceStartExecution, k)
		}
	}
	arn, _ := obj["StateMachineArn"].(string)
	if arn == "" {
		return nil, fmt.Errorf("%s task input: StateMachineArn must be a non-empty string", ResourceStartExecution)
	}
	req := &childRequest{}
	parts := strings.Split(arn, ":")
	switch {
	case len(parts) == 1:
		req.stateMachine = arn
	case len(parts) >= 6 && parts[0] == "arn" && parts[1] == "kstates" && parts[2] == "states" && parts[4] == "stateMachine":
		if parts[3] != namespace {
			return nil, fmt.Errorf("%s task input: StateMachineArn %q names namespace %q; a child execution runs in its parent's namespace %q", ResourceStartExecution, arn, parts[3], namespace)
		}
		req.stateMachine = parts[5]
	case len(parts) >= 7 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "stateMachine":
		// arn:aws:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION_OR_ALIAS]: the name.
		req.stateMachine = parts[6]
	default:
		return nil, fmt.Errorf("%s task input: StateMachineArn %q is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME or arn:kstates:states:NAMESPACE:stateMachine:NAME)", ResourceStartExecution, arn)
	}
	if errs := validation.IsDNS1123Subdomain(req.stateMachine); len(errs) > 0 {
		return nil, fmt.Errorf("%s task input: StateMachineArn %q: %q is not a StateMachine name (Kubernetes names are lower case; the ARN's last segment must be the StateMachine's name): %s",
			ResourceStartExecution, arn, req.stateMachine, strings.Join(errs, "; "))
	}
	switch v := obj["Input"].(type) {
	case nil:
		req.input = "{}"
	case string:
		if _, err := value.ParseString(v); err != nil {
			return nil, fmt.Errorf("%s task input: Input is a string that is not JSON text: %v", ResourceStartExecution, err)
		}
		req.input = v
	default:
		req.input = value.MarshalString(v)
	}
	if v, ok := obj["Name"]; ok {
		name, _ := v.(string)
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return nil, fmt.Errorf("%s task input: Name %q must be a Kubernetes object name (lower case letters, digits, '-' and '.'): %s", ResourceStartExecution, name, strings.Join(errs, "; "))
		}
		req.name = name
	}
	return req, nil
}

// childName is the child's name: the Name parameter, else deterministic per parent, state,
// branch or iteration, visit and attempt (the attempt's pod name), so that a step repeated
// after a crash finds the child it started instead of starting another.
func childName(s *scope, th *engine.Thread, req *childRequest) string {
	if req.name != "" {
		return req.name
	}
	return podTaskName(s, th)
}

func (r *ExecutionReconciler) buildChild(s *scope, t taskRef) (*kstatesv1alpha1.Execution, error) {
	e, th := s.exec, t.thread
	req, err := parseChildRequest(th.Effective.V, e.Namespace)
	if err != nil {
		return nil, err
	}
	child := &kstatesv1alpha1.Execution{}
	child.Namespace, child.Name = e.Namespace, childName(s, th, req)
	child.Labels = map[string]string{LabelParentUID: string(e.UID)}
	if t.resource == ResourceStartExecutionSync || t.resource == ResourceStartExecutionSync2 {
		child.Labels[LabelParentWaits] = "true"
	}
	child.Annotations = map[string]string{
		AnnotationParentTask: podTaskName(s, th),
		AnnotationStartedBy:  ExecutionARN(e.Namespace, e.Spec.StateMachineName, e.Name),
	}
	child.Spec.StateMachineName, child.Spec.Input = req.stateMachine, req.input
	if err := controllerutil.SetControllerReference(e, child, r.Scheme()); err != nil {
		return nil, err
	}
	return child, nil
}

// createChild starts the child execution of a task attempt; like createTaskPod, a child that
// cannot be built or is rejected fails the task at the next reconcile (checkChildTask).
func (r *ExecutionReconciler) createChild(ctx context.Context, s *scope, t taskRef) error {
	child, err := r.buildChild(s, t)
	if err != nil {
		return nil
	}
	if err := r.Create(ctx, child); err != nil && !apierrors.IsAlreadyExists(err) && !rejected(err) {
		return fmt.Errorf("creating child execution %s: %w", child.Name, err)
	}
	return nil
}

// checkChildTask looks at the child execution of a running task.
func (r *ExecutionReconciler) checkChildTask(ctx context.Context, s *scope, t taskRef) (engine.Event, bool, error) {
	th := t.thread
	failed := func(errName, cause string) (engine.Event, bool, error) {
		s.tasks = append(s.tasks, taskOutcome{result: "failed"})
		return engine.Event{Kind: engine.EventTaskFailed, Thread: th.ID, Attempt: th.Attempt, Error: errName, Cause: cause}, true, nil
	}
	built, err := r.buildChild(s, t)
	if err != nil {
		return failed(engine.ErrTaskFailed, err.Error())
	}
	child := &kstatesv1alpha1.Execution{}
	err = r.Get(ctx, client.ObjectKeyFromObject(built), child)
	if apierrors.IsNotFound(err) {
		if err := r.confirmCurrent(ctx, s); err != nil {
			return engine.Event{}, false, err
		}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(built), child); err == nil || !apierrors.IsNotFound(err) {
			return engine.Event{}, false, err // the cache is behind, or an error to retry
		}
		// As for pods (missingTaskObject): the status says the task runs only after the
		// child was created or its create could not succeed; it is never created again.
		err = r.Create(ctx, built.DeepCopy(), client.DryRunAll)
		switch {
		case err == nil && t.resource == ResourceStartExecutionCallback:
			return engine.Event{}, false, nil // the callback is awaited, not the child
		case err == nil:
			return failed(ErrChildDeleted, fmt.Sprintf("child execution %s was deleted while the task waited for it", built.Name))
		case apierrors.IsAlreadyExists(err):
			return engine.Event{}, false, nil
		case rejected(err):
			return failed(engine.ErrTaskFailed, fmt.Sprintf("the API server rejected child execution %s: %v", built.Name, err))
		default:
			return engine.Event{}, false, err
		}
	}
	if err != nil {
		return engine.Event{}, false, err
	}
	if !metav1.IsControlledBy(child, s.exec) || child.Annotations[AnnotationParentTask] != built.Annotations[AnnotationParentTask] {
		return failed(ErrExecutionAlreadyExists, fmt.Sprintf("execution %s already exists and was not started by this task attempt", child.Name))
	}
	arn := ExecutionARN(child.Namespace, child.Spec.StateMachineName, child.Name)
	start := child.CreationTimestamp.Time
	if t.resource == ResourceStartExecution {
		s.tasks = append(s.tasks, taskOutcome{result: "succeeded"})
		return engine.Event{Kind: engine.EventTaskSucceeded, Thread: th.ID, Attempt: th.Attempt,
			Output: map[string]any{"ExecutionArn": arn, "StartDate": epochMillis(start)}}, true, nil
	}
	st := &child.Status
	if t.resource == ResourceStartExecutionCallback {
		// The task ends with a callback (or its timeouts), whatever the child does; only a
		// child that cannot start fails it, as AWS's StartExecution would have refused it.
		if c := condition(st.Conditions, kstatesv1alpha1.ConditionStateMachineResolved); !st.Phase.IsFinal() && childCannotStart(c) {
			return failed(ErrStateMachineDoesNotExist, fmt.Sprintf("child execution %s cannot start: %s", child.Name, c.Message))
		}
		return engine.Event{}, false, nil
	}
	if !st.Phase.IsFinal() {
		if !child.DeletionTimestamp.IsZero() {
			return failed(ErrChildDeleted, fmt.Sprintf("child execution %s was deleted while the task waited for it", child.Name))
		}
		if c := condition(st.Conditions, kstatesv1alpha1.ConditionStateMachineResolved); childCannotStart(c) {
			// An Execution waits for its StateMachine; a parent waiting for that would hang
			// (AWS refuses to start it). The child is aborted by sweepChildren.
			return failed(ErrStateMachineDoesNotExist, fmt.Sprintf("child execution %s cannot start: %s", child.Name, c.Message))
		}
		return engine.Event{}, false, nil
	}
	if st.StartTime != nil {
		start = st.StartTime.Time
	}
	sync2 := t.resource == ResourceStartExecutionSync2
	desc := map[string]any{
		"ExecutionArn": arn, "Name": child.Name,
		"StateMachineArn": StateMachineARN(child.Namespace, child.Spec.StateMachineName),
		"StartDate":       epochMillis(start), "Status": awsStatus(st.Phase),
		"InputDetails": map[string]any{"Included": true},
	}
	if st.StopTime != nil {
		desc["StopDate"] = epochMillis(st.StopTime.Time)
	}
	input := child.Spec.Input
	if input == "" {
		input = "{}"
	}
	desc["Input"] = jsonField(input, sync2)
	if st.Phase != kstatesv1alpha1.ExecutionSucceeded {
		desc["Error"], desc["Cause"] = st.Error, st.Cause
		return failed(engine.ErrTaskFailed, value.MarshalString(desc))
	}
	out := st.Output
	if st.OutputRef != nil {
		data, err := r.loadPayload(ctx, child.Namespace, st.OutputRef)
		if err != nil {
			return engine.Event{}, false, err
		}
		out = string(data)
	}
	if out == "" {
		out = "{}"
	}
	desc["Output"] = jsonField(out, sync2)
	desc["OutputDetails"] = map[string]any{"Included": true}
	outcome := taskOutcome{result: "succeeded"}
	if st.StopTime != nil {
		outcome.duration = st.StopTime.Sub(start)
	}
	s.tasks = append(s.tasks, outcome)
	return engine.Event{Kind: engine.EventTaskSucceeded, Thread: th.ID, Attempt: th.Attempt, Output: desc}, true, nil
}

// jsonField is JSON text as AWS's .sync gives it (a string), or, for .sync:2, as JSON.
func jsonField(text string, asJSON bool) any {
	if !asJSON {
		return text
	}
	v, err := value.ParseString(text)
	if err != nil {
		return text
	}
	return v
}

// epochMillis is AWS's timestamp in a service integration's output: milliseconds since the
// epoch.
func epochMillis(t time.Time) int64 { return t.UnixMilli() }

// awsStatus is AWS's execution status of a phase.
func awsStatus(p kstatesv1alpha1.ExecutionPhase) string {
	switch p {
	case kstatesv1alpha1.ExecutionSucceeded:
		return "SUCCEEDED"
	case kstatesv1alpha1.ExecutionFailed:
		return "FAILED"
	case kstatesv1alpha1.ExecutionTimedOut:
		return "TIMED_OUT"
	case kstatesv1alpha1.ExecutionAborted:
		return "ABORTED"
	}
	return "RUNNING"
}

// sweepChildren aborts the running children of .sync tasks that no running task waits for
// any more (the parent ended, was aborted or timed out, or the task timed out or was
// cancelled), after this reconcile's own status write or for an ended parent, as sweepPods.
// Children of request-response tasks run on; all children are deleted with their parent.
func (r *ExecutionReconciler) sweepChildren(ctx context.Context, s *scope) {
	if !((s.written && s.ex != nil) || s.status.Phase.IsFinal()) {
		return
	}
	list := &kstatesv1alpha1.ExecutionList{}
	if err := r.List(ctx, list, client.InNamespace(s.exec.Namespace), client.MatchingLabels{LabelParentUID: string(s.exec.UID), LabelParentWaits: "true"}); err != nil {
		log.FromContext(ctx).Error(err, "listing child executions")
		return
	}
	wanted := map[string]bool{}
	if s.ex != nil && !s.status.Phase.IsFinal() {
		for _, t := range runningTasks(s.prog, s.ex) {
			wanted[podTaskName(s, t.thread)] = true
		}
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	for i := range list.Items {
		c := &list.Items[i]
		if wanted[c.Annotations[AnnotationParentTask]] || c.Status.Phase.IsFinal() || c.Spec.Abort != nil || !metav1.IsControlledBy(c, s.exec) {
			continue
		}
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Abort = &kstatesv1alpha1.AbortRequest{
			Cause: fmt.Sprintf("the parent execution %s no longer waits for this execution (%s)",
				ExecutionARN(s.exec.Namespace, s.exec.Spec.StateMachineName, s.exec.Name), strings.ToLower(string(s.status.Phase)))}
		if err := r.Patch(ctx, c, patch); err != nil && !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Error(err, "aborting a child execution that is no longer wanted", "execution", c.Name)
		}
	}
}

// childCannotStart reports whether a child execution's StateMachineResolved condition says
// its StateMachine is missing or invalid, which AWS's StartExecution refuses. A StateMachine
// that exists but is not validated yet (StateMachineNotValidated: applied with the parent's,
// or just edited) or a pinned revision not found yet is waited for: on AWS a state machine is
// valid from its creation.
func childCannotStart(c *metav1.Condition) bool {
	return c != nil && c.Status == metav1.ConditionFalse &&
		(c.Reason == kstatesv1alpha1.ReasonStateMachineNotFound || c.Reason == kstatesv1alpha1.ReasonStateMachineInvalid)
}
