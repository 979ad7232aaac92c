package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/template"
)

// Program is a compiled, immutable state machine, safe for concurrent use.
type Program struct {
	Def  *asl.Definition
	root *cdef
}

// cdef is a compiled definition: the top level, a Parallel branch or a Map
// item processor.
type cdef struct {
	def    *asl.Definition
	start  *cstate
	states map[string]*cstate
}

type stateKind uint8

const (
	kPass stateKind = iota
	kTask
	kChoice
	kWait
	kSucceed
	kFail
	kParallel
	kMap
)

// cexpr is a path or an intrinsic call (the ".$" forms and *Path fields).
type cexpr struct {
	src  string
	path *jsonpath.Path
	call *intrinsics.Call
}

func compileExpr(src string) (*cexpr, error) {
	if intrinsics.IsIntrinsic(src) {
		c, err := intrinsics.Parse(src)
		if err != nil {
			return nil, err
		}
		return &cexpr{src: src, call: c}, nil
	}
	p, err := jsonpath.Compile(src)
	if err != nil {
		return nil, err
	}
	return &cexpr{src: src, path: p}, nil
}

func (e *cexpr) eval(sc *jsonpath.Scope, env *intrinsics.Env) (any, error) {
	if e.call != nil {
		return e.call.Eval(sc, env)
	}
	return e.path.Get(sc)
}

type cretrier struct {
	r           *asl.Retrier
	errors      []string
	interval    float64
	maxAttempts int64
	backoff     float64
	maxDelay    float64
	jitter      bool
}

type ccatcher struct {
	c          *asl.Catcher
	errors     []string
	next       *cstate
	resultPath *jsonpath.Reference
	resultNull bool
	assign     *template.Template
	// JSONata mode.
	joutput, jassign *jnode
}

// cstate is one compiled state.
type cstate struct {
	s       *asl.State
	name    string
	kind    stateKind
	next    *cstate
	end     bool
	jsonata bool
	// needsCtx is set when some path or template of the state reads "$$".
	needsCtx bool

	inputPath  *jsonpath.Path
	inputNull  bool
	outputPath *jsonpath.Path
	outputNull bool
	resultPath *jsonpath.Reference
	resultNull bool
	params     *template.Template
	resultSel  *template.Template
	result     any
	hasResult  bool
	assign     *template.Template

	retriers []*cretrier
	catchers []*ccatcher

	// Task.
	resource      string
	waitToken     bool
	timeout       int64
	timeoutPath   *jsonpath.Path
	heartbeat     int64
	heartbeatPath *jsonpath.Path

	// Choice.
	choices []*cchoice
	deflt   *cstate

	// Wait.
	seconds       float64
	hasSeconds    bool
	timestamp     time.Time
	hasTimestamp  bool
	secondsPath   *jsonpath.Path
	timestampPath *jsonpath.Path

	// Fail.
	errorStr, causeStr   string
	hasError, hasCause   bool
	errorExpr, causeExpr *cexpr

	// Parallel and Map.
	branches []*cdef
	proc     *cdef

	// Map.
	distributed        bool
	itemsPath          *jsonpath.Path
	itemSelector       *template.Template
	maxConc            int64
	maxConcPath        *jsonpath.Path
	batchMax           int64
	batchMaxPath       *jsonpath.Path
	batchBytes         int64
	batchBytesPath     *jsonpath.Path
	batchInput         *template.Template
	hasBatcher         bool
	tolCount           int64
	hasTolCount        bool
	tolCountPath       *jsonpath.Path
	tolPercent         float64
	hasTolPercent      bool
	tolPercentPath     *jsonpath.Path
	unsupportedReader  string
	unsupportedWriter  string
	label              string
	mapIterationEvents bool

	// JSONata mode (query.go): every field that may hold {% %}
	// expressions, compiled.
	jargs, joutput, jassign      *jnode
	jtimeout, jheartbeat         *jnode
	jchoices                     []*jchoice
	jseconds, jtimestamp         *jnode
	jerror, jcause               *jnode
	jitems, jitemSelector        *jnode
	jmaxConc, jtolCount, jtolPct *jnode
	jbatchMax, jbatchBytes       *jnode
	jbatchInput                  *jnode
	// jvarRefs names the variables the state's expressions mention.
	jvarRefs []string
}

// compileErr collects compile problems with their location.
type compileErr struct{ msgs []string }

func (c *compileErr) add(ptr, format string, args ...any) {
	c.msgs = append(c.msgs, ptr+": "+fmt.Sprintf(format, args...))
}

// Compile compiles a parsed definition (paths, templates and intrinsics are
// precompiled). Diagnostics from asl.Parse should be checked first; Compile
// reports what it cannot compile (each problem located by JSON pointer) and
// never panics.
func Compile(def *asl.Definition) (*Program, error) {
	if def == nil {
		return nil, errors.New("engine: nil definition")
	}
	ce := &compileErr{}
	root := compileDef(def, ce, 0)
	if len(ce.msgs) > 0 {
		return nil, fmt.Errorf("engine: cannot compile the definition:\n  %s", strings.Join(ce.msgs, "\n  "))
	}
	return &Program{Def: def, root: root}, nil
}

const maxDefDepth = 200

// compileBranches compiles a Parallel state's branches (p is the state's pointer); a null
// branch is an error.
func compileBranches(branches []*asl.Definition, p string, ce *compileErr, depth int) []*cdef {
	var out []*cdef
	for _, b := range branches {
		if b == nil {
			ce.add(p+"/Branches", "null branch")
			continue
		}
		out = append(out, compileDef(b, ce, depth+1))
	}
	return out
}

func compileDef(def *asl.Definition, ce *compileErr, depth int) *cdef {
	d := &cdef{def: def, states: make(map[string]*cstate, len(def.States))}
	if depth > maxDefDepth {
		ce.add(def.Pointer, "definitions nest too deeply")
		return d
	}
	for name, s := range def.States {
		if s == nil {
			ce.add(def.Pointer+"/States/"+name, "state is null")
			continue
		}
		d.states[name] = &cstate{s: s, name: name}
	}
	for _, cs := range d.states {
		compileState(d, cs, ce, depth)
	}
	d.start = d.states[def.StartAt]
	if d.start == nil {
		ce.add(def.Pointer+"/StartAt", "StartAt %q names no state", def.StartAt)
	}
	return d
}

func (d *cdef) target(name, ptr string, ce *compileErr) *cstate {
	t := d.states[name]
	if t == nil {
		ce.add(ptr, "no state named %q", name)
	}
	return t
}

func optPath(o asl.Optional[string], ptr string, ce *compileErr) *jsonpath.Path {
	if !o.Has() {
		return nil
	}
	p, err := jsonpath.Compile(o.Value)
	if err != nil {
		ce.add(ptr, "%v", err)
	}
	return p
}

func optTemplate(o asl.Optional[any], ptr string, ce *compileErr) *template.Template {
	if !o.Set {
		return nil
	}
	t, err := template.Compile(o.Value)
	if err != nil {
		ce.add(ptr, "%v", err)
		return nil
	}
	return t
}

// mentionsContext reports whether a template or path string reads "$$".
func mentionsContext(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.Contains(t, "$$")
	case map[string]any:
		for _, x := range t {
			if mentionsContext(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if mentionsContext(x) {
				return true
			}
		}
	}
	return false
}

func intOf(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case int:
		return int64(t), true
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return int64(t), true
		}
	}
	return 0, false
}

func floatOf(v any) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

func compileState(d *cdef, cs *cstate, ce *compileErr, depth int) {
	s := cs.s
	p := s.Pointer
	switch s.Type {
	case asl.TypePass:
		cs.kind = kPass
	case asl.TypeTask:
		cs.kind = kTask
	case asl.TypeChoice:
		cs.kind = kChoice
	case asl.TypeWait:
		cs.kind = kWait
	case asl.TypeSucceed:
		cs.kind = kSucceed
	case asl.TypeFail:
		cs.kind = kFail
	case asl.TypeParallel:
		cs.kind = kParallel
	case asl.TypeMap:
		cs.kind = kMap
	default:
		ce.add(p+"/Type", "unknown state type %q", s.Type)
		return
	}
	cs.jsonata = s.QueryLanguage == asl.QueryLanguageJSONata
	if s.Next != "" {
		cs.next = d.target(s.Next, p+"/Next", ce)
	}
	cs.end = s.End || cs.kind == kSucceed || cs.kind == kFail
	if cs.jsonata {
		compileJSONataState(d, cs, ce, depth)
		return
	}
	ctx := false
	cs.inputPath = optPath(s.InputPath, p+"/InputPath", ce)
	cs.inputNull = s.InputPath.Set && s.InputPath.Null
	cs.outputPath = optPath(s.OutputPath, p+"/OutputPath", ce)
	cs.outputNull = s.OutputPath.Set && s.OutputPath.Null
	if s.ResultPath.Has() {
		r, err := jsonpath.CompileReference(s.ResultPath.Value)
		if err != nil {
			ce.add(p+"/ResultPath", "%v", err)
		}
		cs.resultPath = r
	}
	cs.resultNull = s.ResultPath.Set && s.ResultPath.Null
	if cs.kind == kMap {
		cs.itemSelector = optTemplate(s.ItemSelector, p+"/ItemSelector", ce)
		ctx = ctx || mentionsContext(s.ItemSelector.Value)
	} else {
		cs.params = optTemplate(s.Parameters, p+"/Parameters", ce)
		ctx = ctx || mentionsContext(s.Parameters.Value)
	}
	cs.resultSel = optTemplate(s.ResultSelector, p+"/ResultSelector", ce)
	cs.assign = optTemplate(s.Assign, p+"/Assign", ce)
	ctx = ctx || mentionsContext(s.ResultSelector.Value) || mentionsContext(s.Assign.Value)
	if s.Result.Set {
		cs.result, cs.hasResult = s.Result.Value, true
	}
	for _, o := range []asl.Optional[string]{s.InputPath, s.OutputPath, s.ItemsPath, s.ErrorPath, s.CausePath, s.SecondsPath, s.TimestampPath, s.TimeoutSecondsPath, s.HeartbeatSecondsPath, s.MaxConcurrencyPath, s.ToleratedFailureCountPath, s.ToleratedFailurePercentagePath} {
		ctx = ctx || strings.Contains(o.Value, "$$")
	}
	compileRetriers(cs)
	for i, c := range s.Catch {
		if c == nil {
			continue
		}
		cp := fmt.Sprintf("%s/Catch/%d", p, i)
		cc := &ccatcher{c: c, errors: c.ErrorEquals, next: d.target(c.Next, cp+"/Next", ce)}
		if c.ResultPath.Has() {
			r, err := jsonpath.CompileReference(c.ResultPath.Value)
			if err != nil {
				ce.add(cp+"/ResultPath", "%v", err)
			}
			cc.resultPath = r
		}
		cc.resultNull = c.ResultPath.Set && c.ResultPath.Null
		cc.assign = optTemplate(c.Assign, cp+"/Assign", ce)
		ctx = ctx || mentionsContext(c.Assign.Value)
		cs.catchers = append(cs.catchers, cc)
	}

	switch cs.kind {
	case kTask:
		cs.resource = s.Resource
		cs.waitToken = strings.HasSuffix(s.Resource, ".waitForTaskToken")
		if s.TimeoutSeconds.Has() {
			if n, ok := intOf(s.TimeoutSeconds.Value); ok {
				cs.timeout = n
			} else {
				ce.add(p+"/TimeoutSeconds", "must be an integer")
			}
		}
		if s.HeartbeatSeconds.Has() {
			if n, ok := intOf(s.HeartbeatSeconds.Value); ok {
				cs.heartbeat = n
			} else {
				ce.add(p+"/HeartbeatSeconds", "must be an integer")
			}
		}
		cs.timeoutPath = optPath(s.TimeoutSecondsPath, p+"/TimeoutSecondsPath", ce)
		cs.heartbeatPath = optPath(s.HeartbeatSecondsPath, p+"/HeartbeatSecondsPath", ce)
	case kChoice:
		for i, r := range s.Choices {
			c := compileChoice(r, fmt.Sprintf("%s/Choices/%d", p, i), ce, 0)
			if c == nil {
				continue
			}
			c.next = d.target(r.Next, fmt.Sprintf("%s/Choices/%d/Next", p, i), ce)
			if r.Assign.Set {
				c.assign = optTemplate(r.Assign, fmt.Sprintf("%s/Choices/%d/Assign", p, i), ce)
				ctx = ctx || mentionsContext(r.Assign.Value)
			}
			cs.choices = append(cs.choices, c)
		}
		if s.Default != "" {
			cs.deflt = d.target(s.Default, p+"/Default", ce)
		}
		ctx = true // rules may read $$; the context is cheap to skip only when known unused
		if !choicesMentionContext(s.Choices) {
			ctx = mentionsContext(s.Assign.Value)
		}
	case kWait:
		if s.Seconds.Has() {
			if f, ok := floatOf(s.Seconds.Value); ok {
				cs.seconds, cs.hasSeconds = f, true
			} else {
				ce.add(p+"/Seconds", "must be a number")
			}
		}
		if s.Timestamp.Has() {
			str, _ := s.Timestamp.Value.(string)
			t, err := parseTimestamp(str)
			if err != nil {
				ce.add(p+"/Timestamp", "%q is not an RFC 3339 timestamp", str)
			}
			cs.timestamp, cs.hasTimestamp = t, true
		}
		cs.secondsPath = optPath(s.SecondsPath, p+"/SecondsPath", ce)
		cs.timestampPath = optPath(s.TimestampPath, p+"/TimestampPath", ce)
	case kFail:
		cs.errorStr, cs.hasError = s.Error.Value, s.Error.Has()
		cs.causeStr, cs.hasCause = s.Cause.Value, s.Cause.Has()
		if s.ErrorPath.Has() {
			e, err := compileExpr(s.ErrorPath.Value)
			if err != nil {
				ce.add(p+"/ErrorPath", "%v", err)
			}
			cs.errorExpr = e
		}
		if s.CausePath.Has() {
			e, err := compileExpr(s.CausePath.Value)
			if err != nil {
				ce.add(p+"/CausePath", "%v", err)
			}
			cs.causeExpr = e
		}
	case kParallel:
		cs.branches = compileBranches(s.Branches, p, ce, depth)
	case kMap:
		compileMap(cs, ce, depth)
	}
	cs.needsCtx = ctx
}

// compileRetriers applies the retriers' defaults: IntervalSeconds 1,
// MaxAttempts 3, BackoffRate 2.0.
func compileRetriers(cs *cstate) {
	for _, r := range cs.s.Retry {
		if r == nil {
			continue
		}
		cr := &cretrier{r: r, errors: r.ErrorEquals, interval: 1, maxAttempts: 3, backoff: 2, jitter: r.JitterStrategy == "FULL"}
		if r.IntervalSeconds.Has() {
			cr.interval = float64(r.IntervalSeconds.Value)
		}
		if r.MaxAttempts.Has() {
			cr.maxAttempts = r.MaxAttempts.Value
		}
		if r.BackoffRate.Has() {
			cr.backoff = r.BackoffRate.Value
		}
		if r.MaxDelaySeconds.Has() {
			cr.maxDelay = float64(r.MaxDelaySeconds.Value)
		}
		cs.retriers = append(cs.retriers, cr)
	}
}

func choicesMentionContext(rs []*asl.ChoiceRule) bool {
	for _, r := range rs {
		if r == nil {
			continue
		}
		if strings.Contains(r.Variable.Value, "$$") || mentionsContext(r.Operand) || choicesMentionContext(r.And) || choicesMentionContext(r.Or) {
			return true
		}
		if r.Not != nil && choicesMentionContext([]*asl.ChoiceRule{r.Not}) {
			return true
		}
	}
	return false
}

func compileMap(cs *cstate, ce *compileErr, depth int) {
	s, p := cs.s, cs.s.Pointer
	if s.ItemProcessor == nil {
		ce.add(p, "a Map state needs an ItemProcessor (or Iterator)")
	} else {
		cs.proc = compileDef(s.ItemProcessor, ce, depth+1)
		if pc := s.ItemProcessor.ProcessorConfig; pc != nil && pc.Mode == "DISTRIBUTED" {
			cs.distributed = true
		}
	}
	cs.label = s.Label
	cs.itemsPath = optPath(s.ItemsPath, p+"/ItemsPath", ce)
	if s.MaxConcurrency.Has() {
		n, ok := intOf(s.MaxConcurrency.Value)
		if !ok {
			ce.add(p+"/MaxConcurrency", "must be an integer")
		}
		cs.maxConc = n
	}
	cs.maxConcPath = optPath(s.MaxConcurrencyPath, p+"/MaxConcurrencyPath", ce)
	if s.ToleratedFailureCount.Has() {
		n, ok := intOf(s.ToleratedFailureCount.Value)
		if !ok {
			ce.add(p+"/ToleratedFailureCount", "must be an integer")
		}
		cs.tolCount, cs.hasTolCount = n, true
	}
	cs.tolCountPath = optPath(s.ToleratedFailureCountPath, p+"/ToleratedFailureCountPath", ce)
	if s.ToleratedFailurePercentage.Has() {
		f, ok := floatOf(s.ToleratedFailurePercentage.Value)
		if !ok {
			ce.add(p+"/ToleratedFailurePercentage", "must be a number")
		}
		cs.tolPercent, cs.hasTolPercent = f, true
	}
	cs.tolPercentPath = optPath(s.ToleratedFailurePercentagePath, p+"/ToleratedFailurePercentagePath", ce)
	if s.ItemBatcher.Has() {
		cs.hasBatcher = true
		b, ok := s.ItemBatcher.Value.(map[string]any)
		if !ok {
			ce.add(p+"/ItemBatcher", "must be an object")
			return
		}
		if v, ok := b["MaxItemsPerBatch"]; ok {
			cs.batchMax, _ = intOf(v)
		}
		if v, ok := b["MaxItemsPerBatchPath"].(string); ok {
			cs.batchMaxPath = optPath(asl.Optional[string]{Set: true, Value: v}, p+"/ItemBatcher/MaxItemsPerBatchPath", ce)
		}
		if v, ok := b["MaxInputBytesPerBatch"]; ok {
			cs.batchBytes, _ = intOf(v)
		}
		if v, ok := b["MaxInputBytesPerBatchPath"].(string); ok {
			cs.batchBytesPath = optPath(asl.Optional[string]{Set: true, Value: v}, p+"/ItemBatcher/MaxInputBytesPerBatchPath", ce)
		}
		if v, ok := b["BatchInput"]; ok {
			cs.batchInput = optTemplate(asl.Optional[any]{Set: true, Value: v}, p+"/ItemBatcher/BatchInput", ce)
		}
	}
	if s.ItemReader.Set {
		cs.unsupportedReader = "ItemReader"
	}
	if s.ResultWriter.Set {
		cs.unsupportedWriter = "ResultWriter"
	}
}
