package crash

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// podWatch records, from the API server's watch, every pod that ever existed in a namespace
// (by name, the UIDs it had) and every deletion. A pod created twice, even one deleted in
// between, shows as two UIDs of one name. Unlike the client's answers, the watch also sees a
// creation whose answer the dying manager never read.
type podWatch struct {
	mu      sync.Mutex
	uids    map[string]map[string]bool
	deleted map[string]int
	done    chan struct{}
}

func watchPods(ctx context.Context, t *testing.T, ns string) *podWatch {
	t.Helper()
	wc, err := client.NewWithWatch(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	pw := &podWatch{uids: map[string]map[string]bool{}, deleted: map[string]int{}, done: make(chan struct{})}
	list := &corev1.PodList{}
	if err := wc.List(ctx, list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	rv := list.ResourceVersion
	go func() {
		defer close(pw.done)
		for ctx.Err() == nil {
			w, err := wc.Watch(ctx, &corev1.PodList{}, client.InNamespace(ns),
				&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				p, ok := ev.Object.(*corev1.Pod)
				if !ok {
					continue
				}
				rv = p.ResourceVersion
				pw.mu.Lock()
				switch ev.Type {
				case watch.Added, watch.Modified:
					if pw.uids[p.Name] == nil {
						pw.uids[p.Name] = map[string]bool{}
					}
					pw.uids[p.Name][string(p.UID)] = true
				case watch.Deleted:
					pw.deleted[p.Name]++
				}
				pw.mu.Unlock()
			}
			w.Stop()
		}
	}()
	return pw
}

// check reports pods created more than once or deleted, and pods the watch missed.
func (pw *podWatch) check(t *testing.T, pods []corev1.Pod) {
	t.Helper()
	pw.mu.Lock()
	defer pw.mu.Unlock()
	for name, uids := range pw.uids {
		if len(uids) != 1 {
			t.Errorf("pod %s was created %d times", name, len(uids))
		}
	}
	for name, n := range pw.deleted {
		t.Errorf("pod %s was deleted %d times", name, n)
	}
	for _, p := range pods {
		if !pw.uids[p.Name][string(p.UID)] {
			t.Errorf("pod %s (uid %s) was not seen by the watch", p.Name, p.UID)
		}
	}
}
