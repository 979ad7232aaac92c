package envtest

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// wantInvalid fails unless err is the API server's 422 Invalid with a cause on field whose
// message contains msg.
func wantInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the API server accepted the object; want Invalid on %s (%q)", field, msg)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v; want an Invalid error on %s", err, field)
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil {
		t.Fatalf("Invalid error without details: %v", err)
	}
	for _, c := range se.ErrStatus.Details.Causes {
		if c.Field == field && strings.Contains(c.Message, msg) {
			return
		}
	}
	t.Fatalf("no cause on field %s containing %q in %v", field, msg, se.ErrStatus.Details.Causes)
}
