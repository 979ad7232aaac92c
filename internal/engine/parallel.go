package engine

import (
	"fmt"

	"github.com/kstates/kstates/internal/engine/jsonpath"
	"math"
	"strconv"
	"strings"

	"github.com/kstates/kstates/internal/engine/value"
)

func (ex *Execution) childID(t *Thread, i int) string {
	return t.ID + "/" + strconv.Itoa(t.Attempt) + "." + strconv.Itoa(i)
}

func (ex *Execution) spawn(t *Thread, d *cdef, index int, input any, linkTo int64) *Thread {
	c := &Thread{ID: ex.childID(t, index), Index: index, State: d.def.StartAt, Input: Value{input}, LastEventID: linkTo, Quiet: t.Quiet, parent: t, def: d}
	if d.start == nil {
		c.State = ""
	}
	t.Children = append(t.Children, c)
	ex.threads[c.ID] = c
	ex.makeReady(c)
	return c
}

func (ex *Execution) execParallel(t *Thread) {
	cs := t.cs
	sc := ex.scope(t, t.Input.V)
	eff, f := ex.inputPath(t, sc)
	if f != nil {
		ex.fail(t, f)
		return
	}
	if cs.params != nil {
		sc.Input = eff
		if eff, f = ex.evalTemplate(t, cs.params, sc); f != nil {
			ex.fail(t, f)
			return
		}
	}
	ex.startParallel(t, eff)
}

// startParallel starts t's branches with input eff.
func (ex *Execution) startParallel(t *Thread, eff any) {
	cs := t.cs
	started := ex.emit(t, "ParallelStateStarted", nil)
	n := len(cs.branches)
	t.Phase, t.Total, t.Finished, t.Failures = PhaseChildren, n, 0, 0
	t.Results = Value{make([]any, n)}
	t.Children = t.Children[:0]
	if n == 0 {
		ex.childrenSucceeded(t)
		return
	}
	for i, b := range cs.branches {
		ex.spawn(t, b, i, eff, started)
	}
}

// removeChild forgets a finished child.
func (ex *Execution) removeChild(t, c *Thread) {
	// Swap-remove: O(1) once found (children mostly finish in order, so
	// the search is short).
	for i, x := range t.Children {
		if x == c {
			last := len(t.Children) - 1
			t.Children[i] = t.Children[last]
			t.Children[last] = nil
			t.Children = t.Children[:last]
			break
		}
	}
	delete(ex.threads, c.ID)
}

// abortChildren stops every running child of t.
func (ex *Execution) abortChildren(t *Thread) {
	for _, c := range t.Children {
		ex.cancelTasks(c)
		ex.forget(c)
		if t.cs.kind == kMap && c.Phase != PhaseDone {
			ex.emit(c, "MapIterationAborted", &MapIterationDetails{Name: t.State, Index: c.Index})
		}
		c.Phase = PhaseDone
	}
	t.Children = nil
}

func (ex *Execution) forget(t *Thread) {
	ex.walk(t, func(x *Thread) {
		delete(ex.threads, x.ID)
		x.Phase = PhaseDone
	})
}

// childDone handles the end of a branch or iteration c of t.
func (ex *Execution) childDone(t *Thread, c *Thread) {
	if t.Phase != PhaseChildren {
		return
	}
	cs := t.cs
	results, _ := t.Results.V.([]any)
	if cs.kind == kParallel {
		t.LastEventID = c.LastEventID
		ex.removeChild(t, c)
		if c.Failed {
			ex.abortChildren(t)
			t.Phase = PhaseReady
			ex.failWith(t, &failure{c.Error, c.Cause}, "ParallelStateFailed")
			return
		}
		if c.Index >= 0 && c.Index < len(results) {
			results[c.Index] = c.Output.V
		}
		t.Finished++
		if t.Finished == t.Total {
			ex.childrenSucceeded(t)
		}
		return
	}
	// Map.
	ex.removeChild(t, c)
	t.Finished++
	if c.Failed {
		ex.emitFrom(t, c, "MapIterationFailed", &MapIterationDetails{Name: t.State, Index: c.Index})
		t.Failures++
		if ex.toleranceExceeded(t) {
			ex.abortChildren(t)
			name, cause := c.Error, c.Cause
			if cs.hasTolCount || cs.hasTolPercent || cs.tolCountPath != nil || cs.tolPercentPath != nil || cs.jtolCount != nil || cs.jtolPct != nil {
				name, cause = ErrExceedToleratedFailed, "The specified tolerated failure threshold was exceeded"
			}
			if cs.distributed {
				ex.emit(t, "MapRunFailed", &ErrorDetails{Error: name, Cause: cause})
			}
			t.Phase = PhaseReady
			ex.failWith(t, &failure{name, cause}, "MapStateFailed")
			return
		}
		if c.Index >= 0 && c.Index < len(results) {
			results[c.Index] = map[string]any{"Error": c.Error, "Cause": c.Cause}
		}
	} else {
		ex.emitFrom(t, c, "MapIterationSucceeded", &MapIterationDetails{Name: t.State, Index: c.Index})
		if c.Index >= 0 && c.Index < len(results) {
			results[c.Index] = c.Output.V
		}
	}
	if t.Finished == t.Total {
		ex.childrenSucceeded(t)
		return
	}
	ex.spawnItems(t)
}

// emitFrom emits an event of t linked to the last event of child c.
func (ex *Execution) emitFrom(t, c *Thread, typ string, d any) {
	if c.Quiet {
		return
	}
	t.LastEventID = c.LastEventID
	ex.emit(t, typ, d)
}

func (ex *Execution) toleranceExceeded(t *Thread) bool {
	countSet, pctSet := t.TolCount >= 0, t.TolPct >= 0
	if !countSet && !pctSet {
		return t.Failures > 0
	}
	if countSet && int64(t.Failures) > t.TolCount {
		return true
	}
	return pctSet && t.Total > 0 && float64(t.Failures)*100/float64(t.Total) > t.TolPct
}

func (ex *Execution) childrenSucceeded(t *Thread) {
	cs := t.cs
	results, _ := t.Results.V.([]any)
	if results == nil {
		results = []any{}
	}
	t.Results, t.Children, t.Effective = Value{}, nil, Value{}
	if cs.kind == kParallel {
		ex.emit(t, "ParallelStateSucceeded", nil)
	} else {
		if cs.distributed {
			ex.emit(t, "MapRunSucceeded", nil)
		}
		ex.emit(t, "MapStateSucceeded", nil)
	}
	t.Phase = PhaseReady
	if f := ex.tooBig(t, results); f != nil {
		ex.fail(t, f)
		return
	}
	ex.complete(t, results)
}

// mapInt reads a Map field given literally or by path.
func (ex *Execution) mapPathValue(t *Thread, field string, p interface{ String() string }, v any, err error) (float64, bool, *failure) {
	if err != nil {
		return 0, false, ex.runtimeFailure(t, err.Error())
	}
	f, ok := floatOf(v)
	if s, isStr := v.(string); isStr {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			f, ok = float64(n), true
		}
	}
	if !ok {
		shown := valueText(v)
		return 0, false, ex.runtimeFailure(t, fmt.Sprintf("The %s field refers to value %s which is not a valid integer: %s", field, strconv.Quote(shown), p.String()))
	}
	return f, true, nil
}

func (ex *Execution) execMap(t *Thread) {
	cs := t.cs
	if cs.unsupportedReader != "" || cs.unsupportedWriter != "" {
		name, field := ErrItemReaderFailed, cs.unsupportedReader
		if field == "" {
			name, field = ErrResultWriterFailed, cs.unsupportedWriter
		}
		ex.threadFailed(t, name, ex.causePrefix(t)+field+" reads or writes Amazon S3, which kstates does not support")
		return
	}
	if cs.proc == nil || cs.proc.start == nil {
		ex.threadFailed(t, ErrRuntime, ex.causePrefix(t)+"the Map state has no item processor")
		return
	}
	sc := ex.newScope(t, t.Input.V)
	eff, f := ex.inputPath(t, sc)
	if f != nil {
		ex.fail(t, f)
		return
	}
	sc.Input = eff
	itemsV := eff
	if cs.itemsPath != nil {
		v, err := cs.itemsPath.Get(sc)
		if err != nil {
			ex.fail(t, ex.runtimeFailure(t, err.Error()))
			return
		}
		itemsV = v
	}
	items, ok := itemsV.([]any)
	if !ok {
		ex.fail(t, ex.runtimeFailure(t, fmt.Sprintf("Items of the Map state must be a JSON array, not %s: %s", value.TypeName(itemsV), valueText(itemsV))))
		return
	}
	// MaxConcurrency.
	maxConc := cs.maxConc
	if cs.maxConcPath != nil {
		v, err := cs.maxConcPath.Get(sc)
		n, _, f := ex.mapPathValue(t, "MaxConcurrencyPath", cs.maxConcPath, v, err)
		if f != nil {
			ex.fail(t, f)
			return
		}
		maxConc = int64(n)
	}
	if maxConc < 0 {
		ex.fail(t, ex.runtimeFailure(t, "MaxConcurrency cannot be negative."))
		return
	}
	// Item inputs are built here (ItemSelector, batching).
	inputs := items
	if cs.itemSelector != nil || cs.hasBatcher {
		inputs = make([]any, len(items))
		var base map[string]any
		for i, it := range items {
			if cs.itemSelector == nil {
				inputs[i] = it
				continue
			}
			if base == nil {
				base = ex.contextObject(t)
			}
			isc := &jsonpath.Scope{Input: eff, Vars: t, Context: mapContext(base, i, it)}
			v, f := ex.evalTemplate(t, cs.itemSelector, isc)
			if f != nil {
				ex.fail(t, f)
				return
			}
			inputs[i] = v
		}
		if cs.hasBatcher {
			b, f := ex.batch(t, sc, inputs)
			if f != nil {
				ex.fail(t, f)
				return
			}
			inputs = b
		}
	}
	n := len(inputs)
	t.Effective = Value{inputs}
	t.Phase, t.Total, t.Finished, t.Failures, t.NextItem = PhaseChildren, n, 0, 0, 0
	t.MaxConc = int(maxConc)
	t.Results = Value{make([]any, n)}
	t.Children = t.Children[:0]
	ex.emit(t, "MapStateStarted", &MapStartedDetails{Length: n})
	// Tolerated failures (-1: not set).
	tolCount, tolPct := int64(-1), float64(-1)
	if cs.hasTolCount {
		tolCount = cs.tolCount
	}
	if cs.tolCountPath != nil {
		v, err := cs.tolCountPath.Get(sc)
		n, _, f := ex.mapPathValue(t, "ToleratedFailureCountPath", cs.tolCountPath, v, err)
		if f == nil && n != math.Trunc(n) {
			f = ex.runtimeFailure(t, fmt.Sprintf("The ToleratedFailureCountPath field refers to value %s which is not a valid integer: %s", strconv.Quote(valueText(v)), cs.tolCountPath.String()))
		}
		if f != nil {
			ex.fail(t, f)
			return
		}
		tolCount = int64(n)
		if n < 0 {
			ex.fail(t, ex.runtimeFailure(t, "ToleratedFailureCount cannot be negative."))
			return
		}
	}
	if cs.hasTolPercent {
		tolPct = cs.tolPercent
	}
	if cs.tolPercentPath != nil {
		v, err := cs.tolPercentPath.Get(sc)
		n, _, f := ex.mapPathValue(t, "ToleratedFailurePercentagePath", cs.tolPercentPath, v, err)
		if f != nil {
			ex.fail(t, f)
			return
		}
		tolPct = n
		if n < 0 || n > 100 {
			ex.fail(t, ex.runtimeFailure(t, "ToleratedFailurePercentage must be between 0 and 100."))
			return
		}
	}
	t.TolCount, t.TolPct = tolCount, tolPct
	ex.spawnMap(t)
}

// startMap starts t's iterations over inputs (JSONata mode, where every
// field is evaluated before the Map starts).
func (ex *Execution) startMap(t *Thread, inputs []any, maxConc, tolCount int64, tolPct float64) {
	n := len(inputs)
	t.Effective = Value{inputs}
	t.Phase, t.Total, t.Finished, t.Failures, t.NextItem = PhaseChildren, n, 0, 0, 0
	t.MaxConc = int(maxConc)
	t.Results = Value{make([]any, n)}
	t.Children = t.Children[:0]
	ex.emit(t, "MapStateStarted", &MapStartedDetails{Length: n})
	t.TolCount, t.TolPct = tolCount, tolPct
	ex.spawnMap(t)
}

// spawnMap records MapRunStarted for a distributed Map and starts the
// first iterations.
func (ex *Execution) spawnMap(t *Thread) {
	cs := t.cs
	n := t.Total
	if cs.distributed {
		ex.emit(t, "MapRunStarted", &MapRunStartedDetails{MapRunArn: ex.Context.StateMachineID + "/" + t.State + ":" + strconv.Itoa(t.Attempt)})
	}
	if n == 0 {
		ex.childrenSucceeded(t)
		return
	}
	ex.spawnItems(t)
}

// mapContext adds $$.Map.Item to a copy of the Map state's context object.
func mapContext(base map[string]any, i int, item any) map[string]any {
	m := make(map[string]any, len(base)+1)
	for k, v := range base {
		m[k] = v
	}
	m["Map"] = map[string]any{"Item": map[string]any{"Index": int64(i), "Value": item}}
	return m
}

// spawnItems starts iterations up to MaxConcurrency.
func (ex *Execution) spawnItems(t *Thread) {
	inputs, _ := t.Effective.V.([]any)
	for t.NextItem < len(inputs) && (t.MaxConc <= 0 || len(t.Children) < t.MaxConc) {
		i := t.NextItem
		t.NextItem++
		var started int64
		if t.cs.distributed {
			c := ex.spawn(t, t.cs.proc, i, inputs[i], 0)
			c.Quiet = true
			continue
		}
		started = ex.emit(t, "MapIterationStarted", &MapIterationDetails{Name: t.State, Index: i})
		ex.spawn(t, t.cs.proc, i, inputs[i], started)
	}
}

// batch groups item inputs per ItemBatcher.
func (ex *Execution) batch(t *Thread, sc interface{}, items []any) ([]any, *failure) {
	cs := t.cs
	scope := ex.newScope(t, t.Input.V)
	maxItems := cs.batchMax
	if cs.batchMaxPath != nil {
		v, err := cs.batchMaxPath.Get(scope)
		n, _, f := ex.mapPathValue(t, "MaxItemsPerBatchPath", cs.batchMaxPath, v, err)
		if f != nil {
			return nil, f
		}
		maxItems = int64(n)
	}
	maxBytes := cs.batchBytes
	if cs.batchBytesPath != nil {
		v, err := cs.batchBytesPath.Get(scope)
		n, _, f := ex.mapPathValue(t, "MaxInputBytesPerBatchPath", cs.batchBytesPath, v, err)
		if f != nil {
			return nil, f
		}
		maxBytes = int64(n)
	}
	if maxItems <= 0 && maxBytes <= 0 {
		maxItems = 1 << 31
	}
	var batchInput any
	hasInput := false
	if cs.batchInput != nil {
		v, f := ex.evalTemplate(t, cs.batchInput, scope)
		if f != nil {
			return nil, f
		}
		batchInput, hasInput = v, true
	}
	return groupBatches(items, maxItems, maxBytes, batchInput, hasInput), nil
}

// groupBatches groups items into {"Items": [...], "BatchInput": ...}
// batches of at most maxItems items and maxBytes bytes (0: no limit).
func groupBatches(items []any, maxItems, maxBytes int64, batchInput any, hasInput bool) []any {
	if maxItems <= 0 && maxBytes <= 0 {
		maxItems = 1 << 31
	}
	var out []any
	var cur []any
	size := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		b := map[string]any{"Items": cur}
		if hasInput {
			b["BatchInput"] = batchInput
		}
		out = append(out, b)
		cur, size = nil, 0
	}
	for _, it := range items {
		s := value.Size(it)
		if len(cur) > 0 && ((maxItems > 0 && int64(len(cur)) >= maxItems) || (maxBytes > 0 && int64(size+s) > maxBytes)) {
			flush()
		}
		cur = append(cur, it)
		size += s
	}
	flush()
	if out == nil {
		out = []any{}
	}
	return out
}
