package podtask

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// WaitForTaskTokenSuffix ends the Resource of a task that waits for a callback: its pod's exit
// does not complete the task (a non-zero exit fails it); a TaskCallback carrying its token
// does.
const WaitForTaskTokenSuffix = ".waitForTaskToken"

// WaitsForTaskToken reports whether a Resource is the callback form.
func WaitsForTaskToken(resource string) bool {
	return strings.HasSuffix(resource, WaitForTaskTokenSuffix)
}

// NewTaskToken makes a task token: base64url of "namespace/execution/secret", the secret 32
// random bytes in hex. The namespace and execution tell the operator (and the CLI) where the
// token belongs; the whole token is kept in the execution's engine state, next to the thread
// and attempt it was issued to, and a callback must present all of it.
func NewTaskToken(namespace, execution string) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString([]byte(namespace + "/" + execution + "/" + hex.EncodeToString(b[:])))
}

// ParseTaskToken returns the namespace and execution a token names; ok is false for a
// string that is not a kstates task token.
func ParseTaskToken(token string) (namespace, execution string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(b), "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || len(parts[2]) != 64 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// TokensEqual compares two tokens in constant time (for equal lengths).
func TokensEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// TaskTokenEnv is the environment variable holding a callback task's token in its pod.
const TaskTokenEnv = "KSTATES_TASK_TOKEN"
