// Package enginestate stores an engine.Execution as a small root document plus
// content-addressed parts, so that a state of any size (a Map of thousands of
// iterations each carrying large data) is never one object, and a transition
// writes only the parts it changed.
//
// The root document is the engine's own JSON (engine.Execution.Marshal) with
// two changes:
//
//   - every value slot (the execution's input and output; a thread's input,
//     effective input, output, variables and Map/Parallel result elements)
//     whose JSON is larger than ValueBytes (ChunkValueBytes in the threads of a
//     chunk, below) is replaced by a reference
//     {"$kstatesRef":"<sha256 hex of the value's JSON>"}; the value is a part of
//     its own. A slot whose inline value is itself an object with the key
//     "$kstatesRef" is escaped as {"$kstatesRef":"","value":<the value>}, so
//     user data is never mistaken for a reference;
//   - the children of a thread with more than ChunkThreads of them, and the
//     results of a thread with more than ChunkResults, are left out of the
//     document and stored in chunks (JSON arrays of threads, or of result
//     values, in the same encoded form), listed in order under "kstatesParts".
//
// Parts are immutable and named by their hash: storing a state stores only
// the parts its store does not hold yet. A Codec remembers the hash of every
// large value it stored or loaded by the value's identity (the engine never
// mutates a value once built; Map and Parallel results arrays, which are
// filled in place, are structure here, never a cached value), so saving a
// state does not re-encode or re-hash the values a step left unchanged, and
// loading one takes the values from memory.
package enginestate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"unsafe"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
)

// RefKey is the key of a reference to a value stored apart.
const RefKey = "$kstatesRef"

// Defaults of a Codec.
const (
	// DefaultValueBytes: a value whose JSON is larger is stored apart.
	DefaultValueBytes = 8 << 10
	// DefaultChunkValueBytes: in the threads of a chunk (a large Map's iterations), a value
	// whose JSON is larger is stored apart. It is smaller than DefaultValueBytes because a
	// chunk is written again whenever one of its threads moves: a chunk of 32 threads holding
	// up to 8 KiB each would be a 256 KiB write per transition, and a costly one to encode.
	DefaultChunkValueBytes = 1 << 10
	// DefaultChunkThreads: a thread's children are stored in chunks of this
	// many threads once it has more (one transition changes one thread, so it
	// rewrites one chunk of ~10 KiB).
	DefaultChunkThreads = 32
	// DefaultChunkResults: a Map's results are stored in chunks of this many
	// values once it has more.
	DefaultChunkResults = 128
	// DefaultCacheBytes bounds the memory of the values and chunks a Codec
	// keeps; it is emptied when full.
	DefaultCacheBytes = 512 << 20
)

// Part kinds.
const (
	KindValue   = "value"
	KindThreads = "threads"
	KindResults = "results"
)

// Parts lists, by thread ID, the chunks that hold a thread's children and
// results, in order.
type Parts struct {
	Children map[string][]string `json:"children,omitempty"`
	Results  map[string][]string `json:"results,omitempty"`
}

type stored struct {
	*engine.Execution
	Parts *Parts `json:"kstatesParts,omitempty"`
}

// Part is one content-addressed part of a stored state.
type Part struct {
	// Hash is the SHA-256 (hex) of Data.
	Hash string
	Kind string
	data []byte
	v    any
}

// Data returns the part's JSON.
func (p *Part) Data() []byte {
	if p.data == nil {
		p.data = value.Marshal(p.v)
	}
	return p.data
}

// Encoded is a state split into its root document and parts.
type Encoded struct {
	Root []byte
	// Parts are the parts the root refers to, directly or through chunks,
	// each once, sorted by hash.
	Parts []*Part
}

// Hash returns the SHA-256 (hex) of data.
func Hash(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Codec splits and joins states. It is safe for concurrent use.
type Codec struct {
	ValueBytes      int
	ChunkValueBytes int
	ChunkThreads    int
	ChunkResults    int
	MaxCacheBytes   int64

	mu     sync.Mutex
	byHash map[string]*entry
	byID   map[ident]*entry
	bytes  int64
}

// NewCodec returns a Codec with the default sizes.
func NewCodec() *Codec {
	return &Codec{ValueBytes: DefaultValueBytes, ChunkValueBytes: DefaultChunkValueBytes, ChunkThreads: DefaultChunkThreads,
		ChunkResults: DefaultChunkResults, MaxCacheBytes: DefaultCacheBytes}
}

// entry is a value (v) or a chunk (raw) known by its hash.
type entry struct {
	hash string
	v    any
	raw  []byte
	// threads is a chunk of threads as decoded (references unresolved), copied for each use.
	threads []*engine.Thread
	size    int
	id      ident
	hasV    bool
}

// ident is the identity of a string, object or array of the value model.
type ident struct {
	kind byte
	p    unsafe.Pointer
	n    int
}

func identOf(v any) (ident, bool) {
	switch t := v.(type) {
	case string:
		if len(t) > 0 {
			return ident{'s', unsafe.Pointer(unsafe.StringData(t)), len(t)}, true
		}
	case map[string]any:
		if t != nil {
			return ident{'m', reflect.ValueOf(t).UnsafePointer(), 0}, true
		}
	case []any:
		if len(t) > 0 {
			return ident{'a', unsafe.Pointer(&t[0]), len(t)}, true
		}
	}
	return ident{}, false
}

func (c *Codec) lockedInit() {
	if c.byHash == nil {
		c.byHash, c.byID = map[string]*entry{}, map[ident]*entry{}
	}
}

// add remembers e, emptying the cache first when it is full.
func (c *Codec) lockedAdd(e *entry) {
	c.lockedInit()
	if old := c.byHash[e.hash]; old != nil {
		if old.hasV || !e.hasV {
			if e.hasV && old.hasV && old.id != e.id {
				// The same content as another object: remember this identity too.
				if id, ok := identOf(e.v); ok {
					c.byID[id] = old
				}
			}
			return
		}
		c.lockedRemove(old)
	}
	max := c.MaxCacheBytes
	if max <= 0 {
		max = DefaultCacheBytes
	}
	if c.bytes+int64(e.size) > max {
		c.byHash, c.byID, c.bytes = map[string]*entry{}, map[ident]*entry{}, 0
	}
	c.byHash[e.hash] = e
	if e.hasV {
		if id, ok := identOf(e.v); ok {
			e.id = id
			c.byID[id] = e
		}
	}
	c.bytes += int64(e.size)
}

func (c *Codec) lockedRemove(e *entry) {
	delete(c.byHash, e.hash)
	if x := c.byID[e.id]; x == e {
		delete(c.byID, e.id)
	}
	c.bytes -= int64(e.size)
}

// Forget drops parts from memory (parts a state no longer uses).
func (c *Codec) Forget(hashes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lockedInit()
	for _, h := range hashes {
		if e := c.byHash[h]; e != nil {
			delete(c.byHash, h)
			if x := c.byID[e.id]; x == e {
				delete(c.byID, e.id)
			}
			c.bytes -= int64(e.size)
		}
	}
}

// Remember keeps raw data known by its hash (a root document just stored), so
// that loading it again needs no read.
func (c *Codec) Remember(hash string, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lockedAdd(&entry{hash: hash, raw: raw, size: len(raw)})
}

// Raw returns the data of a part held in memory.
func (c *Codec) Raw(hash string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byHash[hash]; e != nil && e.raw != nil {
		return e.raw, true
	}
	return nil, false
}

// encoder swaps the large slots of a state for references while it is
// marshalled, and puts everything back afterwards.
type encoder struct {
	c     *Codec
	undo  []func()
	parts map[string]*Part
	table *Parts
}

func (e *encoder) restore() {
	for i := len(e.undo) - 1; i >= 0; i-- {
		e.undo[i]()
	}
	e.undo = nil
}

// replace returns what a slot holding v stores inline, and whether that
// differs from v: values over limit bytes are stored apart.
func (e *encoder) replace(v any, limit int) (any, bool) {
	switch v.(type) {
	case string, map[string]any, []any:
	default:
		return v, false
	}
	id, _ := identOf(v)
	e.c.mu.Lock()
	ent := e.c.byID[id]
	e.c.mu.Unlock()
	if ent != nil && ent.hasV {
		if e.parts[ent.hash] == nil {
			e.parts[ent.hash] = &Part{Hash: ent.hash, Kind: KindValue, v: ent.v}
		}
		return map[string]any{RefKey: ent.hash}, true
	}
	if sizeOver(v, limit) {
		data := value.Marshal(v)
		h := Hash(data)
		e.c.mu.Lock()
		e.c.lockedAdd(&entry{hash: h, v: v, size: len(data), hasV: true})
		e.c.mu.Unlock()
		if p := e.parts[h]; p == nil || p.data == nil {
			e.parts[h] = &Part{Hash: h, Kind: KindValue, v: v, data: data}
		}
		return map[string]any{RefKey: h}, true
	}
	if m, ok := v.(map[string]any); ok {
		if _, ok := m[RefKey]; ok {
			return map[string]any{RefKey: "", "value": v}, true
		}
	}
	return v, false
}

func (e *encoder) slot(p *any, limit int) {
	old := *p
	if nv, changed := e.replace(old, limit); changed {
		*p = nv
		e.undo = append(e.undo, func() { *p = old })
	}
}

func (c *Codec) valueBytes() int {
	if c.ValueBytes > 0 {
		return c.ValueBytes
	}
	return DefaultValueBytes
}

func (c *Codec) chunkValueBytes() int {
	if c.ChunkValueBytes > 0 {
		return c.ChunkValueBytes
	}
	return DefaultChunkValueBytes
}

func (c *Codec) chunkThreads() int {
	if c.ChunkThreads > 0 {
		return c.ChunkThreads
	}
	return DefaultChunkThreads
}

func (c *Codec) chunkResults() int {
	if c.ChunkResults > 0 {
		return c.ChunkResults
	}
	return DefaultChunkResults
}

// chunk stores data as a part of kind k and returns its hash.
func (e *encoder) chunk(kind string, data []byte) string {
	h := Hash(data)
	e.c.mu.Lock()
	e.c.lockedAdd(&entry{hash: h, raw: data, size: len(data)})
	e.c.mu.Unlock()
	e.parts[h] = &Part{Hash: h, Kind: kind, data: data}
	return h
}

// thread encodes t and its descendants; limit is the size over which a value is stored
// apart (smaller in chunked threads).
func (e *encoder) thread(t *engine.Thread, limit int) error {
	if t == nil {
		return nil
	}
	e.slot(&t.Input.V, limit)
	e.slot(&t.Effective.V, limit)
	e.slot(&t.Output.V, limit)
	for k, v := range t.Vars {
		if nv, changed := e.replace(v, limit); changed {
			vars, k, v := t.Vars, k, v
			vars[k] = nv
			e.undo = append(e.undo, func() { vars[k] = v })
		}
	}
	if arr, ok := t.Results.V.([]any); ok {
		rlimit := limit
		if len(arr) > e.c.chunkResults() {
			rlimit = min(limit, e.c.chunkValueBytes())
		}
		for i := range arr {
			e.slot(&arr[i], rlimit)
		}
		if n := e.c.chunkResults(); len(arr) > n {
			saved := t.Results
			t.Results = engine.Value{}
			e.undo = append(e.undo, func() { t.Results = saved })
			for i := 0; i < len(arr); i += n {
				h := e.chunk(KindResults, value.Marshal(arr[i:min(i+n, len(arr))]))
				e.table.Results[t.ID] = append(e.table.Results[t.ID], h)
			}
		}
	}
	climit := limit
	if len(t.Children) > e.c.chunkThreads() {
		climit = min(limit, e.c.chunkValueBytes())
	}
	for _, c := range t.Children {
		if err := e.thread(c, climit); err != nil {
			return err
		}
	}
	if n := e.c.chunkThreads(); len(t.Children) > n {
		kids := t.Children
		t.Children = nil
		e.undo = append(e.undo, func() { t.Children = kids })
		for i := 0; i < len(kids); i += n {
			data, err := json.Marshal(kids[i:min(i+n, len(kids))])
			if err != nil {
				return fmt.Errorf("enginestate: thread %q: %w", t.ID, err)
			}
			e.table.Children[t.ID] = append(e.table.Children[t.ID], e.chunk(KindThreads, data))
		}
	}
	return nil
}

// Encode splits ex into a root document and parts. ex is left as it was.
func (c *Codec) Encode(ex *engine.Execution) (*Encoded, error) {
	if ex == nil || ex.Root == nil {
		return nil, fmt.Errorf("enginestate: the state has no root thread")
	}
	e := &encoder{c: c, parts: map[string]*Part{}, table: &Parts{Children: map[string][]string{}, Results: map[string][]string{}}}
	defer e.restore()
	e.slot(&ex.Input.V, c.valueBytes())
	e.slot(&ex.Output.V, c.valueBytes())
	if err := e.thread(ex.Root, c.valueBytes()); err != nil {
		return nil, err
	}
	st := stored{Execution: ex}
	if len(e.table.Children) > 0 || len(e.table.Results) > 0 {
		st.Parts = e.table
	}
	root, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("enginestate: %w", err)
	}
	out := &Encoded{Root: root, Parts: make([]*Part, 0, len(e.parts))}
	for _, p := range e.parts {
		out.Parts = append(out.Parts, p)
	}
	sort.Slice(out.Parts, func(i, j int) bool { return out.Parts[i].Hash < out.Parts[j].Hash })
	return out, nil
}

// sizeOver reports whether the JSON of v is longer than limit bytes, stopping early.
func sizeOver(v any, limit int) bool {
	n := 0
	var walk func(v any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case string:
			if len(t) > limit {
				return true
			}
			n += value.Size(t)
		case []any:
			n += 2 + len(t)
			for _, x := range t {
				if n > limit || walk(x) {
					return true
				}
			}
		case map[string]any:
			n += 2 + len(t)
			for k, x := range t {
				n += len(k) + 3
				if n > limit || walk(x) {
					return true
				}
			}
		default:
			n += value.Size(t)
		}
		return n > limit
	}
	return walk(v)
}

// Fetch reads the data of a part by its hash.
type Fetch func(hash string) ([]byte, error)

// decoder resolves references while a state is loaded.
type decoder struct {
	c      *Codec
	fetch  Fetch
	hashes map[string]bool
	// tree: put the chunks back but leave the values' references unresolved.
	tree bool
}

func (d *decoder) raw(h string) ([]byte, error) {
	d.hashes[h] = true
	if b, ok := d.c.Raw(h); ok {
		return b, nil
	}
	b, err := d.fetch(h)
	if err != nil {
		return nil, err
	}
	if Hash(b) != h {
		return nil, fmt.Errorf("enginestate: part %s: its data does not match its hash", h)
	}
	d.c.Remember(h, b)
	return b, nil
}

// threads returns a chunk of threads as decoded, to be copied before use.
func (d *decoder) threads(h string) ([]*engine.Thread, error) {
	d.c.mu.Lock()
	d.c.lockedInit()
	ent := d.c.byHash[h]
	var kids []*engine.Thread
	if ent != nil {
		kids = ent.threads
	}
	d.c.mu.Unlock()
	if kids != nil {
		d.hashes[h] = true
		return kids, nil
	}
	b, err := d.raw(h)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &kids); err != nil {
		return nil, fmt.Errorf("engine: bad execution state: chunk %s: %w", h, err)
	}
	for _, k := range kids {
		if err := checkTree(k); err != nil {
			return nil, err
		}
	}
	d.c.mu.Lock()
	if e := d.c.byHash[h]; e != nil && e.raw != nil {
		e.threads = kids
	}
	d.c.mu.Unlock()
	return kids, nil
}

// checkTree rejects a null thread.
func checkTree(t *engine.Thread) error {
	if t == nil {
		return fmt.Errorf("engine: bad execution state: a null thread")
	}
	for _, c := range t.Children {
		if err := checkTree(c); err != nil {
			return err
		}
	}
	return nil
}

// cloneThread copies what loading and stepping a thread change (its fields, variables,
// results and children); values are immutable and shared.
func cloneThread(t *engine.Thread) *engine.Thread {
	c := *t
	if t.Vars != nil {
		c.Vars = make(engine.Vars, len(t.Vars))
		for k, v := range t.Vars {
			c.Vars[k] = v
		}
	}
	if a, ok := t.Results.V.([]any); ok && a != nil {
		c.Results = engine.Value{V: append(make([]any, 0, len(a)), a...)}
	}
	if t.Retries != nil {
		c.Retries = append(make([]int, 0, len(t.Retries)), t.Retries...)
	}
	if t.Children != nil {
		c.Children = make([]*engine.Thread, len(t.Children))
		for i, k := range t.Children {
			c.Children[i] = cloneThread(k)
		}
	}
	return &c
}

func (d *decoder) resolve(p *any, where string) error {
	if d.tree {
		return nil
	}
	m, ok := (*p).(map[string]any)
	if !ok {
		return nil
	}
	r, ok := m[RefKey]
	if !ok {
		return nil
	}
	h, _ := r.(string)
	if h == "" {
		*p = m["value"]
		return nil
	}
	d.hashes[h] = true
	d.c.mu.Lock()
	d.c.lockedInit()
	ent := d.c.byHash[h]
	d.c.mu.Unlock()
	if ent != nil && ent.hasV {
		*p = ent.v
		return nil
	}
	b, err := d.fetch(h)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if Hash(b) != h {
		return fmt.Errorf("%s: part %s: its data does not match its hash", where, h)
	}
	v, err := value.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: part %s: %w", where, h, err)
	}
	d.c.mu.Lock()
	d.c.lockedAdd(&entry{hash: h, v: v, size: len(b), hasV: true})
	d.c.mu.Unlock()
	*p = v
	return nil
}

func (d *decoder) thread(t *engine.Thread) error {
	where := fmt.Sprintf("thread %q", t.ID)
	for _, p := range []*any{&t.Input.V, &t.Effective.V, &t.Output.V} {
		if err := d.resolve(p, where); err != nil {
			return err
		}
	}
	for k, v := range t.Vars {
		if err := d.resolve(&v, where+" variable "+k); err != nil {
			return err
		}
		t.Vars[k] = v
	}
	if arr, ok := t.Results.V.([]any); ok {
		for i := range arr {
			if err := d.resolve(&arr[i], where+" results"); err != nil {
				return err
			}
		}
	}
	for _, c := range t.Children {
		if c == nil {
			return fmt.Errorf("enginestate: %s has a null child", where)
		}
		if err := d.thread(c); err != nil {
			return err
		}
	}
	return nil
}

// Decode loads a state stored by Encode (or by engine.Execution.Marshal),
// reading the parts it does not hold in memory with fetch. It returns the
// hashes of every part the state uses.
func (c *Codec) Decode(root []byte, fetch Fetch) (*engine.Execution, []string, error) {
	return c.decode(root, &decoder{c: c, fetch: fetch, hashes: map[string]bool{}})
}

// DecodeTree loads the thread tree of a stored state (the chunks of children and results put
// back) but leaves the large values as references: enough to list its threads and tasks.
func (c *Codec) DecodeTree(root []byte, fetch Fetch) (*engine.Execution, error) {
	ex, _, err := c.decode(root, &decoder{c: c, fetch: fetch, hashes: map[string]bool{}, tree: true})
	return ex, err
}

func (c *Codec) decode(root []byte, d *decoder) (*engine.Execution, []string, error) {
	st := stored{Execution: &engine.Execution{}}
	if err := json.Unmarshal(root, &st); err != nil {
		return nil, nil, fmt.Errorf("engine: bad execution state: %w", err)
	}
	ex := st.Execution
	if ex.Root == nil {
		return nil, nil, fmt.Errorf("engine: bad execution state: no root thread")
	}
	if st.Parts != nil {
		if err := d.attach(ex.Root, st.Parts); err != nil {
			return nil, nil, err
		}
	}
	if err := d.resolve(&ex.Input.V, "the execution's input"); err != nil {
		return nil, nil, err
	}
	if err := d.resolve(&ex.Output.V, "the execution's output"); err != nil {
		return nil, nil, err
	}
	if err := d.thread(ex.Root); err != nil {
		return nil, nil, err
	}
	hashes := make([]string, 0, len(d.hashes))
	for h := range d.hashes {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	return ex, hashes, nil
}

// attach puts the chunked children and results back into their threads.
func (d *decoder) attach(root *engine.Thread, parts *Parts) error {
	index := map[string]*engine.Thread{}
	var add func(t *engine.Thread)
	add = func(t *engine.Thread) {
		if t == nil {
			return
		}
		index[t.ID] = t
		for _, c := range t.Children {
			add(c)
		}
	}
	add(root)
	pending := map[string][]string{}
	for id, hs := range parts.Children {
		pending[id] = hs
	}
	for len(pending) > 0 {
		progress := false
		for id, hs := range pending {
			t := index[id]
			if t == nil {
				continue
			}
			delete(pending, id)
			progress = true
			for _, h := range hs {
				kids, err := d.threads(h)
				if err != nil {
					return fmt.Errorf("the children of thread %q: %w", id, err)
				}
				for _, k := range kids {
					k = cloneThread(k)
					t.Children = append(t.Children, k)
					add(k)
				}
			}
		}
		if !progress {
			for id := range pending {
				return fmt.Errorf("engine: bad execution state: the parts table names thread %q, which does not exist", id)
			}
		}
	}
	for id, hs := range parts.Results {
		t := index[id]
		if t == nil {
			return fmt.Errorf("engine: bad execution state: the parts table names thread %q, which does not exist", id)
		}
		var arr []any
		for _, h := range hs {
			b, err := d.raw(h)
			if err != nil {
				return fmt.Errorf("the results of thread %q: %w", id, err)
			}
			v, err := value.Parse(b)
			if err != nil {
				return fmt.Errorf("engine: bad execution state: the results of thread %q: %w", id, err)
			}
			a, ok := v.([]any)
			if !ok {
				return fmt.Errorf("engine: bad execution state: the results of thread %q: a chunk is %s, not an array", id, value.TypeName(v))
			}
			arr = append(arr, a...)
		}
		t.Results = engine.Value{V: arr}
	}
	return nil
}
