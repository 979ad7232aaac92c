package engine

import (
	"context"
	"testing"
)

// runBench runs p on input b.N times, each run to success, on a virtual clock. With
// transitionsPerRun > 0 it reports transitions per second.
func runBench(b *testing.B, p *Program, input any, transitionsPerRun int) {
	b.Helper()
	clock := NewVirtualClock(t0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := p.Run(context.Background(), input, RunOptions{Clock: clock})
		if res.Status != StatusSucceeded {
			b.Fatalf("%s %s %s", res.Status, res.Error, res.Cause)
		}
	}
	if transitionsPerRun > 0 {
		b.ReportMetric(float64(transitionsPerRun*b.N)/b.Elapsed().Seconds(), "transitions/s")
	}
}

// intItems is the array 0, 1, ..., n-1.
func intItems(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = int64(i)
	}
	return items
}

// BenchmarkCounterLoop reports Pass/Choice transitions per second with
// history recording on.
func BenchmarkCounterLoop(b *testing.B) {
	runBench(b, compileFile(b, "counter_loop.json"), map[string]any{"i": int64(0), "n": int64(5000)}, 10001)
}

// BenchmarkInlineMap runs a 2,000-item inline Map with a Pass per item.
func BenchmarkInlineMap(b *testing.B) {
	p := compileString(b, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"s.$":"States.Format('item {}', $.v)"},"End":true}}},"End":true}}}`)
	runBench(b, p, intItems(2000), 0)
}

// BenchmarkParametersLargeInput runs a Parameters-heavy Pass over a 50 KB input.
func BenchmarkParametersLargeInput(b *testing.B) {
	p := compileString(b, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.items[0]","b.$":"$.items[10].name","n.$":"States.ArrayLength($.items)","all.$":"$.items","k":"lit"},"ResultPath":"$.out","End":true}}}`)
	items := make([]any, 500)
	for i := range items {
		items[i] = map[string]any{"name": "item-name-padding-padding", "i": int64(i), "tags": []any{"a", "b", "c"}}
	}
	runBench(b, p, map[string]any{"items": items}, 0)
}

// BenchmarkJSONataCounterLoop is BenchmarkCounterLoop in JSONata mode: a
// Choice Condition and a Pass whose Assign and Output are expressions.
func BenchmarkJSONataCounterLoop(b *testing.B) {
	p := compileString(b, `{"QueryLanguage":"JSONata","StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.i < $states.input.n %}","Next":"Inc"}],"Default":"Done"},
		"Inc":{"Type":"Pass","Assign":{"last":"{% $states.input.i %}"},"Output":{"i":"{% $states.input.i + 1 %}","n":"{% $states.input.n %}"},"Next":"C"},
		"Done":{"Type":"Succeed"}}}`)
	runBench(b, p, map[string]any{"i": int64(0), "n": int64(2000)}, 4002)
}

// BenchmarkJSONataInlineMap is BenchmarkInlineMap in JSONata mode.
func BenchmarkJSONataInlineMap(b *testing.B) {
	p := compileString(b, `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"v":"{% $states.context.Map.Item.Value %}","i":"{% $states.context.Map.Item.Index %}"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":{"s":"{% 'item ' & $string($states.input.v) %}"},"End":true}}},"End":true}}}`)
	runBench(b, p, intItems(2000), 0)
}

// BenchmarkJSONataFunctions is BenchmarkJSONataCounterLoop with AWS's
// functions ($hash, $partition, $parse) in the Pass state's expressions.
func BenchmarkJSONataFunctions(b *testing.B) {
	p := compileString(b, `{"QueryLanguage":"JSONata","StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.i < $states.input.n %}","Next":"Inc"}],"Default":"Done"},
		"Inc":{"Type":"Pass","Assign":{"h":"{% $hash($string($states.input.i), 'MD5') %}","p":"{% $partition([1, 2, 3], 2) %}"},"Output":{"i":"{% $parse($string($states.input.i + 1)) %}","n":"{% $states.input.n %}"},"Next":"C"},
		"Done":{"Type":"Succeed"}}}`)
	runBench(b, p, map[string]any{"i": int64(0), "n": int64(2000)}, 4002)
}
