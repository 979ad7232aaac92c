package envtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// table asks the API server for what `kubectl get <resource>` prints.
func table(t *testing.T, ns, resource string) *metav1.Table {
	t.Helper()
	hc, err := rest.HTTPClientFor(restConfig)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/apis/kstates.io/v1alpha1/namespaces/%s/%s", strings.TrimSuffix(restConfig.Host, "/"), ns, resource)
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	tab := &metav1.Table{}
	if err := json.Unmarshal(body, tab); err != nil {
		t.Fatal(err)
	}
	return tab
}

// visible returns the default columns (priority 0) of a table and the cells of its first row.
func visible(tab *metav1.Table) (names []string, cells []any) {
	for i, c := range tab.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
			if len(tab.Rows) > 0 {
				cells = append(cells, tab.Rows[0].Cells[i])
			}
		}
	}
	return names, cells
}

func TestKubectlGetExecutionsShowsProgressAtAGlance(t *testing.T) {
	ctx, ns := setup(t)
	e := makeExecution(ns, "run").obj()
	if err := k8sClient.Create(ctx, e); err != nil {
		t.Fatal(err)
	}
	start := metav1.NewTime(time.Now().Add(-time.Minute))
	e.Status = kstatesv1alpha1.ExecutionStatus{Phase: kstatesv1alpha1.ExecutionRunning, CurrentState: "Charge",
		CurrentStates: []string{"Charge"}, StartTime: &start, Duration: "1m0s"}
	if err := k8sClient.Status().Update(ctx, e); err != nil {
		t.Fatal(err)
	}
	names, cells := visible(table(t, ns, "executions"))
	if want := []string{"Name", "StateMachine", "Status", "Current", "Start", "Duration", "Age"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("columns %v, want %v", names, want)
	}
	if cells[0] != "run" || cells[1] != "order" || cells[2] != "Running" || cells[3] != "Charge" || cells[5] != "1m0s" {
		t.Fatalf("row %v", cells)
	}
}

func TestKubectlGetStateMachinesShowsValidityAndRevision(t *testing.T) {
	ctx, ns := setup(t)
	sm := &kstatesv1alpha1.StateMachine{}
	sm.Name, sm.Namespace = "order", ns
	sm.Spec.DefinitionString = `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}`
	if err := k8sClient.Create(ctx, sm); err != nil {
		t.Fatal(err)
	}
	sm.Status = kstatesv1alpha1.StateMachineStatus{
		CurrentRevision: "order-0123456789",
		Conditions: []metav1.Condition{{Type: kstatesv1alpha1.ConditionValid, Status: metav1.ConditionTrue,
			Reason: kstatesv1alpha1.ReasonDefinitionValid, Message: "valid", LastTransitionTime: metav1.Now()}},
	}
	if err := k8sClient.Status().Update(ctx, sm); err != nil {
		t.Fatal(err)
	}
	names, cells := visible(table(t, ns, "statemachines"))
	if want := []string{"Name", "Valid", "Revision", "Age"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("columns %v, want %v", names, want)
	}
	if cells[0] != "order" || cells[1] != "True" || cells[2] != "order-0123456789" {
		t.Fatalf("row %v", cells)
	}
}
