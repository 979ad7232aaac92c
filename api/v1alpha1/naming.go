package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Names of the objects the operator creates are derived, never random, so that a controller
// that crashed after creating one finds it again instead of creating a second.

// maxNameLength is the longest object name (a DNS subdomain).
const maxNameLength = 253

// RevisionName is the name of the StateMachineRevision of a state machine whose content has
// the hex SHA-256 hash: "<stateMachine>-<first 10 hex digits>".
func RevisionName(stateMachine, hash string) string {
	return shorten(stateMachine, maxNameLength-11) + "-" + hash[:10]
}

// ExecutionObjectPrefix is the prefix of the names of an execution's HistoryChunks and
// Payloads: the execution's name (shortened when needed) and 5 hex digits of a hash of its
// UID, so that a re-created execution of the same name never adopts old objects.
func ExecutionObjectPrefix(executionName, uid string) string {
	h := sha256.Sum256([]byte(uid))
	return shorten(executionName, 200) + "-" + hex.EncodeToString(h[:])[:5]
}

// HistoryChunkName is the name of chunk i of the execution whose chunkPrefix is prefix.
func HistoryChunkName(prefix string, i int32) string {
	return fmt.Sprintf("%s-%0*d", prefix, ChunkNameDigits, i)
}

// PayloadName is the content-addressed name of a Payload of an execution: creating the same
// data twice names the same object.
func PayloadName(prefix, sha256Hex string) string {
	return prefix + "-p" + sha256Hex[:16]
}

// EngineStatePartName is the content-addressed name of a Payload holding a part of an
// execution's engine state (a large value, a chunk of threads or results, the root document):
// "<prefix>-s<first 16 hex digits>". The infix differs from PayloadName's so that a state part
// is never the same object as an output or event details payload of the same data: state parts
// are deleted when the state stops using them, those never.
func EngineStatePartName(prefix, sha256Hex string) string {
	return prefix + "-s" + sha256Hex[:16]
}

// shorten cuts s to at most n characters, replacing the cut tail with 8 hex digits of its
// hash so that distinct long names stay distinct, and never ending on '-' or '.'.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	h := sha256.Sum256([]byte(s))
	head := s[:n-9]
	for len(head) > 0 && (head[len(head)-1] == '-' || head[len(head)-1] == '.') {
		head = head[:len(head)-1]
	}
	return head + "-" + hex.EncodeToString(h[:])[:8]
}
