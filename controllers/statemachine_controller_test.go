package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

func TestRevisionsToPrune(t *testing.T) {
	// revs makes revisions r1..rn (sequence i), in an order other than by sequence.
	revs := func(n int) []kstatesv1alpha1.StateMachineRevision {
		var out []kstatesv1alpha1.StateMachineRevision
		for i := n; i >= 1; i-- {
			r := kstatesv1alpha1.StateMachineRevision{}
			r.Name = fmt.Sprintf("r%d", i)
			r.Spec.Sequence = int64(i)
			out = append(out, r)
		}
		return out
	}
	deleting := func(rs []kstatesv1alpha1.StateMachineRevision, name string) []kstatesv1alpha1.StateMachineRevision {
		for i := range rs {
			if rs[i].Name == name {
				now := metav1.Now()
				rs[i].DeletionTimestamp = &now
			}
		}
		return rs
	}
	cases := []struct {
		reason  string
		revs    []kstatesv1alpha1.StateMachineRevision
		current string
		inUse   []string
		want    string
		asked   bool
	}{
		{"ten old revisions and the current one are all kept, and no index is asked", revs(11), "r11", nil, "", false},
		{"the oldest beyond ten old ones are pruned", revs(13), "r13", nil, "r1,r2", true},
		{"the current revision is never pruned, even the oldest", revs(13), "r1", nil, "r2,r3", true},
		{"a revision in use is kept and does not count among the ten", revs(13), "r13", []string{"r1"}, "r2", true},
		{"nothing is pruned while the unused ones are ten or fewer", revs(13), "r13", []string{"r1", "r5"}, "", true},
		{"a revision already being deleted is neither pruned again nor counted", deleting(revs(12), "r1"), "r12", nil, "", false},
	}
	for _, c := range cases {
		asked := false
		got, err := revisionsToPrune(c.revs, c.current, func(r *kstatesv1alpha1.StateMachineRevision) (bool, error) {
			asked = true
			for _, n := range c.inUse {
				if n == r.Name {
					return true, nil
				}
			}
			return false, nil
		})
		var names []string
		for _, r := range got {
			names = append(names, r.Name)
		}
		if err != nil || strings.Join(names, ",") != c.want || asked != c.asked {
			t.Errorf("%s: pruned %v (err %v, in use asked %v), want %q (asked %v)", c.reason, names, err, asked, c.want, c.asked)
		}
	}
}

func TestOwnedByExecutionRecognisesRevisionsOfOlderOperators(t *testing.T) {
	rev := &kstatesv1alpha1.StateMachineRevision{}
	rev.OwnerReferences = []metav1.OwnerReference{{Kind: "StateMachine", Name: "m"}}
	if ownedByExecution(rev) {
		t.Errorf("a revision owned only by its StateMachine is owned by an execution")
	}
	rev.OwnerReferences = append(rev.OwnerReferences, metav1.OwnerReference{Kind: "Execution", Name: "e"})
	if !ownedByExecution(rev) {
		t.Errorf("a revision with an Execution owner reference is not owned by an execution")
	}
}

func TestRevisionOfExecutionMapsTheDeletedExecutionToItsRevision(t *testing.T) {
	e := &kstatesv1alpha1.Execution{}
	e.Namespace, e.Name = "ns", "e"
	if reqs := revisionOfExecution(context.Background(), e); len(reqs) != 0 {
		t.Errorf("an execution that never started maps to %v", reqs)
	}
	e.Status.Revision = "m-0123456789"
	reqs := revisionOfExecution(context.Background(), e)
	if len(reqs) != 1 || reqs[0].Namespace != "ns" || reqs[0].Name != "m-0123456789" {
		t.Errorf("an execution of revision m-0123456789 maps to %v", reqs)
	}
}
