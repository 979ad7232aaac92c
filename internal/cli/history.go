package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/kstates/kstates/internal/engine"
)

// historyRow is one line of the history table.
type historyRow struct {
	id, prev string
	ms       string // time since the first event
	typ      string
	state    string
	detail   string
}

// historyRows turns events into table rows. Details are read through their
// JSON form (the GetExecutionHistory field names), so this works with
// whatever Go types the engine uses for them. An event without a state name
// (TaskScheduled, TaskSucceeded, ...) takes the state of the event it
// follows (previousEventId), as the AWS console shows it.
func historyRows(events []engine.HistoryEvent) []historyRow {
	rows := make([]historyRow, 0, len(events))
	stateOf := make(map[int64]string, len(events))
	var open []string // the Parallel and Map states entered and not exited
	for i, ev := range events {
		d := detailsMap(ev)
		state, _ := d["name"].(string)
		isBlock := strings.HasPrefix(ev.Type, "Parallel") || strings.HasPrefix(ev.Type, "Map")
		switch {
		case state != "":
		case isBlock && len(open) > 0:
			// ParallelStateStarted, MapStateSucceeded, ...: the open block.
			state = open[len(open)-1]
		case !strings.HasPrefix(ev.Type, "Execution"):
			state = stateOf[ev.PreviousEventID]
		}
		switch ev.Type {
		case "ParallelStateEntered", "MapStateEntered":
			open = append(open, state)
		case "ParallelStateExited", "MapStateExited":
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
		if strings.HasSuffix(ev.Type, "StateExited") {
			// The next events follow the exit but belong to no state yet.
			stateOf[ev.ID] = ""
		} else {
			stateOf[ev.ID] = state
		}
		ms := int64(0)
		if i > 0 && !events[0].Timestamp.IsZero() {
			ms = ev.Timestamp.Sub(events[0].Timestamp).Milliseconds()
		}
		prev := ""
		if ev.PreviousEventID != 0 {
			prev = strconv.FormatInt(ev.PreviousEventID, 10)
		}
		rows = append(rows, historyRow{
			id:     strconv.FormatInt(ev.ID, 10),
			prev:   prev,
			ms:     strconv.FormatInt(ms, 10),
			typ:    ev.Type,
			state:  state,
			detail: detailSummary(ev.Type, d),
		})
	}
	return rows
}

// writeHistoryTable prints the history as a table.
func writeHistoryTable(w io.Writer, events []engine.HistoryEvent) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREV\tTIME(ms)\tTYPE\tSTATE\tDETAIL")
	for _, r := range historyRows(events) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.id, r.prev, r.ms, r.typ, r.state, r.detail)
	}
	tw.Flush()
}

// detailsMap returns an event's "...EventDetails" object as a map, read
// from the event's GetExecutionHistory JSON (details given as a map are
// taken as they are).
func detailsMap(ev engine.HistoryEvent) map[string]any {
	if ev.Details == nil {
		return nil
	}
	if m, ok := ev.Details.(map[string]any); ok {
		return m
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	d, _ := m[engine.DetailsKey(ev.Type)].(map[string]any)
	return d
}

// detailSummary is a one-line summary of an event's details.
func detailSummary(typ string, d map[string]any) string {
	if d == nil {
		return ""
	}
	str := func(k string) string {
		switch v := d[k].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	var s string
	switch {
	case str("error") != "" || str("cause") != "":
		s = str("error")
		if c := str("cause"); c != "" {
			s += ": " + c
		}
	case strings.HasPrefix(typ, "MapIteration"):
		s = "index " + str("index")
	case typ == "MapStateStarted":
		s = "length " + str("length")
	case str("resource") != "" && str("output") == "":
		s = str("resource")
		if p := str("parameters"); p != "" {
			s += " " + p
		}
	case str("output") != "":
		s = "output " + str("output")
	case str("input") != "":
		s = "input " + str("input")
	}
	return truncate(strings.Join(strings.Fields(s), " "), 100)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
