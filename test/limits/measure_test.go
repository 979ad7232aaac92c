package limits

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

func payloadsResource(t *testing.T, ns string) metadata.ResourceInterface {
	t.Helper()
	mc, err := metadata.NewForConfig(restConfig)
	if err != nil {
		t.Fatal(err)
	}
	return mc.Resource(schema.GroupVersionResource{Group: kstatesv1alpha1.GroupVersion.Group, Version: kstatesv1alpha1.GroupVersion.Version, Resource: "payloads"}).Namespace(ns)
}

// isStatePart tells an engine state part ("<prefix>-s<hash>") of an execution whose names
// start with prefix.
func isStatePart(name, prefix string) bool {
	return strings.HasPrefix(name, prefix) && strings.Contains(name[len(prefix):], "-s")
}

// stateParts lists the names of the engine state parts left in the namespace.
func stateParts(ctx context.Context, t *testing.T, ns, prefix string) []string {
	t.Helper()
	list, err := payloadsResource(t, ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range list.Items {
		if isStatePart(m.Name, prefix) {
			out = append(out, m.Name)
		}
	}
	return out
}

// payloadCounter counts the Payloads created and deleted in a namespace, from a watch of their
// metadata only (the data of a large run is gigabytes), separating the engine state's parts
// (named "<prefix>-s<hash>") from outputs and event details.
type payloadCounter struct {
	mu                                   sync.Mutex
	stateAdded, stateDeleted, otherAdded int
	stop                                 context.CancelFunc
	done                                 chan struct{}
}

func countPayloads(ctx context.Context, t *testing.T, ns, prefix string) *payloadCounter {
	t.Helper()
	res := payloadsResource(t, ns)
	wctx, stop := context.WithCancel(ctx)
	c := &payloadCounter{stop: stop, done: make(chan struct{})}
	list, err := res.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rv := list.ResourceVersion
	go func() {
		defer close(c.done)
		for wctx.Err() == nil {
			w, err := res.Watch(wctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for ev := range w.ResultChan() {
				m, ok := ev.Object.(*metav1.PartialObjectMetadata)
				if !ok {
					continue
				}
				rv = m.ResourceVersion
				state := isStatePart(m.Name, prefix)
				c.mu.Lock()
				switch {
				case ev.Type == watch.Added && state:
					c.stateAdded++
				case ev.Type == watch.Added:
					c.otherAdded++
				case ev.Type == watch.Deleted && state:
					c.stateDeleted++
				}
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *payloadCounter) report(t *testing.T) {
	time.Sleep(2 * time.Second) // let the last deletions arrive
	c.stop()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("payloads: %d engine state parts created, %d deleted; %d other payloads (outputs, event details) created",
		c.stateAdded, c.stateDeleted, c.otherAdded)
}

// serverSampler samples the API server's resident memory and etcd's database size.
type serverSampler struct {
	mu                       sync.Mutex
	maxRSS, maxDB, maxDBUsed float64
	stop                     context.CancelFunc
	done                     chan struct{}
}

func sampleServers(ctx context.Context, t *testing.T) *serverSampler {
	t.Helper()
	cs, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	s := &serverSampler{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			s.sample(sctx, cs)
			select {
			case <-sctx.Done():
				return
			case <-time.After(5 * time.Second):
			}
		}
	}()
	return s
}

func (s *serverSampler) sample(ctx context.Context, cs *kubernetes.Clientset) {
	if b, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx); err == nil {
		if v, ok := metric(b, "process_resident_memory_bytes"); ok {
			s.mu.Lock()
			s.maxRSS = max(s.maxRSS, v)
			s.mu.Unlock()
		}
	}
	if etcdURL == "" {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(etcdURL, "/")+"/metrics", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	db, ok1 := metric(b, "etcd_mvcc_db_total_size_in_bytes")
	used, ok2 := metric(b, "etcd_mvcc_db_total_size_in_use_in_bytes")
	s.mu.Lock()
	if ok1 {
		s.maxDB = max(s.maxDB, db)
	}
	if ok2 {
		s.maxDBUsed = max(s.maxDBUsed, used)
	}
	s.mu.Unlock()
}

func (s *serverSampler) report(t *testing.T) {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Logf("kube-apiserver peak resident memory %.0f MiB; etcd database peak %.0f MiB (%.0f MiB in use)",
		s.maxRSS/(1<<20), s.maxDB/(1<<20), s.maxDBUsed/(1<<20))
}

// metric reads an unlabelled (or the first labelled) sample of a Prometheus text exposition.
func metric(b []byte, name string) (float64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || len(line) == len(name) || (line[len(name)] != ' ' && line[len(name)] != '{') {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			return v, true
		}
	}
	return 0, false
}

// checkSizes fails for any object of the namespace over 1 MiB as stored (JSON) and returns the
// largest size. It lists in pages: a large run's payloads are gigabytes in all.
func checkSizes(ctx context.Context, t *testing.T, ns string) int {
	t.Helper()
	largest, largestWhat := 0, ""
	for _, list := range []client.ObjectList{&kstatesv1alpha1.ExecutionList{}, &kstatesv1alpha1.HistoryChunkList{}, &kstatesv1alpha1.PayloadList{}} {
		cont := ""
		for {
			if err := k8sClient.List(ctx, list, client.InNamespace(ns), client.Limit(50), client.Continue(cont)); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(list)
			if err != nil {
				t.Fatal(err)
			}
			var items struct {
				Metadata struct {
					Continue string `json:"continue"`
				} `json:"metadata"`
				Items []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(b, &items); err != nil {
				t.Fatal(err)
			}
			for _, it := range items.Items {
				var m struct {
					Metadata struct {
						Name string `json:"name"`
					} `json:"metadata"`
				}
				_ = json.Unmarshal(it, &m)
				if len(it) > largest {
					largest, largestWhat = len(it), fmt.Sprintf("%T %s", list, m.Metadata.Name)
				}
				if len(it) > maxObjectBytes {
					t.Errorf("%T item %s is %d bytes, over 1 MiB", list, m.Metadata.Name, len(it))
				}
			}
			if cont = items.Metadata.Continue; cont == "" {
				break
			}
		}
	}
	t.Logf("largest object: %d bytes (%s)", largest, largestWhat)
	return largest
}
